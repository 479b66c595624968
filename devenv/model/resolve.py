"""Fold app + production profile + local overlay into one ``TenantSpec`` per environment.

Pure: no I/O, no Docker. ``env="prod"`` is production's own view (pinned images, real replicas and
resources, no overlay); ``env="local"`` applies the overlay and records every difference it makes,
with its reason, so ``devenv diff`` can explain what local changes.
"""

from __future__ import annotations

from devenv.model.parse import merge_overlay_tenant
from devenv.model.types import (
    Component,
    Difference,
    Env,
    OverlayTenant,
    Placement,
    Profile,
    Project,
    PublishedPort,
    SecretRef,
    TenantSpec,
    Workload,
)


def compose_project(tenant: str) -> str:
    """The compose project of a tenant: ``devenv-<tenant>``. ``DEVENV_PROJECT_PREFIX`` changes the
    prefix so two checkouts (or a test run beside a dev session) can run the same tenant at once."""
    import os

    return f"{os.environ.get('DEVENV_PROJECT_PREFIX') or 'devenv'}-{tenant}"


def feature_env(features: dict[str, bool]) -> dict[str, str]:
    """Feature flags reach containers as ``FEATURE_<NAME>=true|false``."""
    return {f"FEATURE_{k.upper().replace('-', '_')}": "true" if v else "false" for k, v in sorted(features.items())}


def overlay_for(project: Project, tenant: str) -> OverlayTenant:
    ov = project.overlay
    return merge_overlay_tenant(ov.defaults, ov.tenants.get(tenant, OverlayTenant()))


def tenant_port_base(project: Project, tenant: str) -> int:
    """Deterministic: the tenant's index among all profiles in name order, unless the overlay pins
    ``port_base``. Validation reports any overlap between tenants."""
    pinned = overlay_for(project, tenant).port_base
    if pinned is not None:
        return pinned
    names = sorted(project.profiles)
    return project.app.port_base + names.index(tenant) * project.app.ports_per_tenant


def port_slots(project: Project) -> dict[tuple[str, str], int]:
    """Every (component, port name) of the app gets a fixed slot, so enabling or disabling a
    component never moves another component's port."""
    slots: dict[tuple[str, str], int] = {}
    for comp in project.app.components.values():
        for port in comp.ports:
            slots[(comp.name, port.name)] = len(slots)
    return slots


def _enabled(comp: Component, profile: Profile, ov: OverlayTenant | None) -> tuple[bool, str]:
    cp = profile.components.get(comp.name)
    if cp is not None and not cp.enabled:
        return False, "disabled in the production profile"
    if ov is not None and ov.disable and comp.name in ov.disable:
        return False, "disabled by the local overlay"
    return True, ""


def resolve(project: Project, tenant: str, env: Env = "local") -> TenantSpec:
    """The tenant ``tenant`` as it runs in ``env``. Raises ``KeyError`` for an unknown tenant
    (callers check names first and report them properly)."""
    profile = project.profiles[tenant]
    app = project.app
    ov = overlay_for(project, tenant) if env == "local" else None
    base = tenant_port_base(project, tenant)
    slots = port_slots(project)
    diffs: list[Difference] = []
    enabled = {c.name for c in app.components.values() if _enabled(c, profile, ov)[0]}

    for comp in app.components.values():
        on, why = _enabled(comp, profile, ov)
        prod_on, _ = _enabled(comp, profile, None)
        if prod_on and not on:
            diffs.append(Difference(comp.name, "enabled", "yes", "no", why))

    workloads: dict[str, Workload] = {}
    for comp in app.components.values():
        if comp.name not in enabled:
            continue
        cp = profile.components.get(comp.name)
        workloads[comp.name] = _workload(project, profile, comp, cp, env, ov, base, slots, enabled, diffs)

    secret_values: dict[str, dict[str, str]] = {}
    if ov is not None and ov.secrets:
        wanted = {(s.name, s.key) for w in workloads.values() for s in w.secret_env}
        for name, keys in ov.secrets.items():
            vals = {k: v for k, v in keys.items() if (name, k) in wanted}
            if vals:
                secret_values[name] = vals
    for s in _distinct_refs(workloads):
        if env == "local":
            origin = "dev value from the overlay" if s.key in secret_values.get(s.name, {}) else "generated locally"
            diffs.append(Difference("*", f"secret {s.name}/{s.key}", "production secret", origin,
                                    "secrets are never copied from production"))

    domains = profile.domains
    if ov is not None and ov.domain:
        domains = (ov.domain.replace("{tenant}", tenant),)
        diffs.append(Difference("*", "domains", ", ".join(profile.domains), domains[0], "local overlay: domain"))

    return TenantSpec(
        name=tenant,
        env=env,
        project=compose_project(tenant),
        namespace=profile.namespace,
        labels=dict(profile.labels),
        node_selector=dict(profile.node_selector),
        workloads=workloads,
        domains=tuple(domains),
        features=dict(profile.features),
        secret_values=secret_values,
        differences=tuple(diffs),
    )


def _workload(project, profile, comp, cp, env, ov, base, slots, enabled, diffs) -> Workload:  # type: ignore[no-untyped-def]
    """One component of the tenant; appends to ``diffs`` what the overlay changes."""
    name = comp.name
    prod_replicas = cp.replicas if cp else 1
    replicas = prod_replicas
    if ov is not None and ov.replicas and name in ov.replicas:
        replicas = ov.replicas[name]
        if replicas != prod_replicas:
            diffs.append(Difference(name, "replicas", str(prod_replicas), str(replicas), "local overlay: replicas"))

    resources = cp.resources if cp else None
    if ov is not None and ov.drop_resources and resources is not None:
        diffs.append(Difference(name, "resources", _res(resources), "none", "local overlay: drop_resources"))
        resources = None

    env_vars = dict(comp.env)
    if comp.role == "app":
        env_vars.update(profile.env)
        env_vars.update(feature_env(profile.features))
        env_vars["TENANT"] = profile.tenant
    if cp:
        env_vars.update(cp.env)
    if ov is not None and ov.env and comp.role == "app":
        for k, v in ov.env.items():
            if env_vars.get(k) != v:
                diffs.append(Difference(name, f"env {k}", env_vars.get(k, "(unset)"), v, "local overlay: env"))
            env_vars[k] = v

    pinned = (cp.image if cp else None) or comp.ref
    # production runs a pinned image; local builds from source unless the overlay's build list leaves it out
    build_from_source = comp.image is not None and (
        pinned is None or (env == "local" and (ov is None or ov.build is None or name in ov.build))
    )
    if build_from_source and pinned is not None:
        diffs.append(Difference(name, "image", pinned, f"built from source ({comp.image})", "local: built from source"))

    ports = tuple(
        PublishedPort(p.name, p.container, base + slots[(name, p.name)], p.http) for p in comp.ports
    )
    return Workload(
        name=name,
        role=comp.role,
        build_image=comp.image if build_from_source else None,
        image_ref=None if build_from_source else pinned,
        command=comp.command,
        replicas=replicas,
        resources=resources,
        env=env_vars,
        secret_env=component_secrets(profile, comp),
        ports=ports,
        health=comp.health,
        depends_on=tuple(d for d in comp.depends_on if d in enabled),
        volumes=comp.volumes,
        watch=comp.watch if build_from_source else (),
        restart=comp.restart,
        entrypoint=comp.entrypoint,
        user=comp.user,
        working_dir=comp.working_dir,
        placement=cp.placement if cp else Placement(),
        probes=dict(cp.probes) if cp else {},
        service_account=cp.service_account if cp else None,
        kind=cp.kind if cp else "Deployment",
    )


def _distinct_refs(workloads: dict[str, Workload]) -> list[SecretRef]:
    seen: dict[tuple[str, str], SecretRef] = {}
    for w in workloads.values():
        for r in w.secret_env:
            seen.setdefault((r.name, r.key), r)
    return list(seen.values())


def profile_secret_refs(profile: Profile) -> list[SecretRef]:
    """Every distinct secret reference of the profile: the tenant's and each component's own."""
    seen: dict[tuple[str, str, str], SecretRef] = {}
    for r in (*profile.secrets, *(r for cp in profile.components.values() for r in cp.secrets)):
        seen.setdefault((r.name, r.key, r.env), r)
    return list(seen.values())


def component_secrets(profile: Profile, comp: Component) -> tuple[SecretRef, ...]:
    """What one component receives: app components get the tenant's secrets, every component its
    own (``components.<name>.secrets``); a backing service gets only its own. On one env name the
    component's own reference wins."""
    cp = profile.components.get(comp.name)
    own = cp.secrets if cp else ()
    taken = {r.env for r in own}
    shared = tuple(r for r in profile.secrets if r.env not in taken) if comp.role == "app" else ()
    return shared + own


def _res(r) -> str:  # type: ignore[no-untyped-def]
    parts = [f"requests {k}={v}" for k, v in sorted(r.requests.items())]
    parts += [f"limits {k}={v}" for k, v in sorted(r.limits.items())]
    return ", ".join(parts) or "none"
