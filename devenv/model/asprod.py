"""Run a tenant locally the way production runs it, and say exactly where local still differs.

``resolve_as_prod`` starts from production's own view (``resolve(..., "prod")``: pinned images,
production env, replicas and resources, the production component set) and changes only what a
laptop must change, recording each change as a ``Difference`` with its reason:

* ``--dev`` components are built from source and watched; every other component runs its pinned
  production image. A component the profile pins no image for is built from source too (there is
  nothing else to run) and reported, so the fix (``devenv import``) is one command away.
* Secrets are never copied from production: dev values from the overlay, the rest generated.
* Domains: production's names point at production, so the overlay's local domain is used.
* Replicas: the compose backend publishes one host port per component, so a component with
  published ports runs one replica there (production's count is kept for the others, and for
  every component on kind).
* Everything else the overlay says (replicas, env, drop_resources, disable, build) is *not*
  applied: that is the point of ``--as-prod``.

``compare`` puts the production and local specs side by side and attaches a reason to every
difference (``devenv diff``); a difference nobody explains is shown as such rather than hidden.
``check_images_present`` is the one impure helper here: ``up --as-prod`` calls it before starting,
so a missing pinned image fails early with the commands that fix it.
"""

from __future__ import annotations

from dataclasses import replace
from difflib import get_close_matches
from typing import Any

from devenv.errors import DevenvError
from devenv.model.resolve import overlay_for, profile_secret_refs, resolve
from devenv.model.types import Difference, OverlayTenant, Profile, Project, TenantSpec, Workload

BACKENDS = ("compose", "kind")
UNEXPLAINED = "not explained by devenv (please report)"


def resolve_as_prod(project: Project, tenant: str, dev: tuple[str, ...] = (),
                    backend: str = "compose") -> TenantSpec:
    """The tenant with production's images, config and component set, ``dev`` built from source
    and watched, local secrets, and ``differences`` naming every remaining change and its reason."""
    if tenant not in project.profiles:
        raise DevenvError(f"unknown tenant '{tenant}'", f"known tenants: {', '.join(project.profiles)}")
    prod = resolve(project, tenant, "prod")
    _check_dev(project, prod, dev)
    diffs: list[Difference] = []
    workloads = {name: _as_prod_workload(project, w, name in dev, backend, diffs)
                 for name, w in prod.workloads.items()}
    ov = overlay_for(project, tenant)
    profile = project.profiles[tenant]
    secret_values = _local_secrets(profile, ov, diffs)
    domains = prod.domains
    if ov.domain:
        domains = (ov.domain.replace("{tenant}", tenant),)
        diffs.append(Difference("*", "domains", ", ".join(prod.domains), domains[0],
                                "overlay: domain (production's names point at production)"))
    spec = replace(prod, env="local", workloads=workloads, domains=domains, secret_values=secret_values)
    diffs += backend_differences(spec, backend)
    return replace(spec, differences=tuple(diffs))


def _check_dev(project: Project, prod: TenantSpec, dev: tuple[str, ...]) -> None:
    """Every ``--dev`` name must be a component this tenant runs and devenv can build."""
    for name in dev:
        comp = project.app.components.get(name)
        if comp is None:
            guess = get_close_matches(name, list(project.app.components), n=1)
            raise DevenvError(f"--dev {name}: no such component",
                              (f"did you mean '{guess[0]}'? " if guess else "")
                              + f"components: {', '.join(project.app.components)}")
        if name not in prod.workloads:
            raise DevenvError(f"--dev {name}: production does not run {name} for tenant {prod.name}",
                              "pick a component the tenant runs (`devenv diff --tenant "
                              f"{prod.name} --as-prod` lists them)")
        if comp.image is None:
            raise DevenvError(f"--dev {name}: {name} has no image to build in devenv.yaml (it runs {comp.ref})",
                              "only components with `image:` can be built from source")


def _as_prod_workload(project: Project, w: Workload, dev: bool, backend: str,
                      diffs: list[Difference]) -> Workload:
    comp = project.app.components[w.name]
    if dev:
        pinned = w.image_ref or "(no image pinned in the profile)"
        diffs.append(Difference(w.name, "image", pinned, f"built from source ({comp.image})",
                                "--dev: built from source and watched"))
        w = replace(w, build_image=comp.image, image_ref=None, watch=comp.watch)
    elif w.build_image is not None:
        diffs.append(Difference(w.name, "image", "(no image pinned in the profile)",
                                f"built from source ({w.build_image})",
                                "no production image pinned in the profile; `devenv import` pins it"))
        w = replace(w, watch=())
    if backend == "compose" and w.ports and w.replicas > 1:
        diffs.append(Difference(w.name, "replicas", str(w.replicas), "1",
                                "compose publishes one host port per component (kind keeps production's count)"))
        w = replace(w, replicas=1)
    return w


def _local_secrets(profile: Profile, ov: OverlayTenant, diffs: list[Difference]) -> dict[str, dict[str, str]]:
    """Dev values from the overlay for the secrets the profile names; the rest are generated by the
    backend. Either way each one is a difference: production's value never reaches a laptop."""
    refs = profile_secret_refs(profile)
    wanted = {(s.name, s.key) for s in refs}
    values: dict[str, dict[str, str]] = {}
    for name, keys in (ov.secrets or {}).items():
        picked = {k: v for k, v in keys.items() if (name, k) in wanted}
        if picked:
            values[name] = picked
    seen: set[tuple[str, str]] = set()
    for s in refs:
        if (s.name, s.key) in seen:
            continue
        seen.add((s.name, s.key))
        if s.key in values.get(s.name, {}):
            diffs.append(Difference("*", f"secret {s.name}/{s.key}", "production secret", "dev value from the overlay",
                                    "overlay: secrets are never copied from production"))
        else:
            diffs.append(Difference("*", f"secret {s.name}/{s.key}", "production secret", "generated locally",
                                    "missing secret: no dev value in devenv.local.yaml/devenv.personal.yaml"))
    return values


def backend_differences(spec: TenantSpec, backend: str) -> list[Difference]:
    """What the backend itself cannot reproduce: compose has one host and no scheduler, so no
    placement, and it does not apply Kubernetes requests/limits. Per-workload placement, probes and
    service accounts are production's: neither local backend applies them (``render --env prod``
    emits them)."""
    out = [d for w in spec.workloads.values() for d in workload_backend_differences(w, backend)]
    if backend != "compose":
        return out
    if spec.node_selector:
        out.insert(0, Difference("*", "node_selector", _fmt_map(spec.node_selector), "none (one local host)",
                                 "backend compose: no placement; use --backend kind for node selectors"))
    for w in spec.workloads.values():
        if w.resources is not None and (w.resources.requests or w.resources.limits):
            out.append(Difference(w.name, "resources", _res(w.resources), "not enforced",
                                  "backend compose: requests/limits not applied; use --backend kind"))
    return out


def workload_backend_differences(w: Workload, backend: str) -> list[Difference]:
    """Production's per-workload fields that a local run does not apply, each with the reason."""
    out: list[Difference] = []
    where = "compose has one host and no scheduler" if backend == "compose" else "the local kind cluster has " \
        "no production node pools"
    if w.placement:
        out.append(Difference(w.name, "placement", placement_text(w), "none (any local node)",
                              f"backend {backend}: {where}; `render --env prod` emits it"))
    if w.probes:
        local = "devenv.yaml health check" if w.health is not None else "none"
        what = "one healthcheck per service" if backend == "compose" else "devenv.yaml's readiness probe locally"
        out.append(Difference(w.name, "probes", probes_text(w.probes), local,
                              f"backend {backend}: {what} (production's would restart a paused or "
                              "debugged container); `render --env prod` emits them"))
    if w.service_account:
        out.append(Difference(w.name, "service_account", w.service_account, "none",
                              f"backend {backend}: production's service accounts and their RBAC are "
                              "not reproduced locally; `render --env prod` emits it"))
    return out


def placement_text(w: Workload) -> str:
    p = w.placement
    parts = [f"nodeSelector {_fmt_map(p.node_selector)}"] if p.node_selector else []
    if p.tolerations:
        parts.append(f"{len(p.tolerations)} toleration(s)")
    if p.affinity:
        parts.append("affinity " + "+".join(sorted(p.affinity)))
    return "; ".join(parts)


def probes_text(probes: dict[str, dict[str, Any]]) -> str:
    return ", ".join(f"{kind} {_probe_action(p)}" for kind, p in sorted(probes.items()))


def _probe_action(p: dict[str, Any]) -> str:
    if isinstance(p.get("httpGet"), dict):
        return f"http {p['httpGet'].get('path', '/')}:{p['httpGet'].get('port', '?')}"
    if isinstance(p.get("tcpSocket"), dict):
        return f"tcp :{p['tcpSocket'].get('port', '?')}"
    if isinstance(p.get("exec"), dict):
        return "exec " + " ".join(str(c) for c in p["exec"].get("command") or [])
    return next(iter(p), "probe")


# --------------------------------------------------------------------------- comparing specs


def compare(prod: TenantSpec, local: TenantSpec) -> list[Difference]:
    """Every difference between the two specs, each with the reason ``local.differences`` gives
    (or ``UNEXPLAINED``), followed by the recorded differences that do not show in the specs'
    fields (secrets, what the backend cannot do)."""
    found: list[Difference] = []
    found += _diff_enabled(prod, local)
    for name, pw in prod.workloads.items():
        lw = local.workloads.get(name)
        if lw is not None:
            found += _diff_workload(pw, lw)
    found += _diff_tenant(prod, local)
    reasons = {(d.component, d.field): d for d in local.differences}
    out: list[Difference] = []
    used: set[tuple[str, str]] = set()
    for d in found:
        rec = reasons.get((d.component, d.field)) or reasons.get(("*", d.field))
        if rec is not None:
            used.add((rec.component, rec.field))
        out.append(replace(d, reason=rec.reason if rec else UNEXPLAINED))
    out += [d for d in local.differences if (d.component, d.field) not in used]
    return out


def _diff_enabled(prod: TenantSpec, local: TenantSpec) -> list[Difference]:
    out = [Difference(n, "enabled", "yes", "no", "") for n in prod.workloads if n not in local.workloads]
    out += [Difference(n, "enabled", "no", "yes", "") for n in local.workloads if n not in prod.workloads]
    return out


def _image(w: Workload) -> str:
    return w.image_ref if w.build_image is None and w.image_ref else f"built from source ({w.build_image})"


def _diff_workload(p: Workload, w: Workload) -> list[Difference]:
    out: list[Difference] = []
    if _image(p) != _image(w):
        out.append(Difference(w.name, "image", _image(p), _image(w), ""))
    if p.replicas != w.replicas:
        out.append(Difference(w.name, "replicas", str(p.replicas), str(w.replicas), ""))
    if _res(p.resources) != _res(w.resources):
        out.append(Difference(w.name, "resources", _res(p.resources), _res(w.resources), ""))
    for k in sorted(set(p.env) | set(w.env)):
        if p.env.get(k) != w.env.get(k):
            out.append(Difference(w.name, f"env {k}", p.env.get(k, "(unset)"), w.env.get(k, "(unset)"), ""))
    if set(p.secret_env) != set(w.secret_env):
        out.append(Difference(w.name, "secret refs", _refs(p), _refs(w), ""))
    return out


def _diff_tenant(prod: TenantSpec, local: TenantSpec) -> list[Difference]:
    out: list[Difference] = []
    if prod.domains != local.domains:
        out.append(Difference("*", "domains", ", ".join(prod.domains), ", ".join(local.domains), ""))
    for field in ("node_selector", "labels"):
        a, b = getattr(prod, field), getattr(local, field)
        if a != b:
            out.append(Difference("*", field, _fmt_map(a), _fmt_map(b), ""))
    if prod.features != local.features:
        out.append(Difference("*", "features", _fmt_map(_flags(prod.features)), _fmt_map(_flags(local.features)), ""))
    return out


def _flags(f: dict[str, bool]) -> dict[str, str]:
    return {k: "true" if v else "false" for k, v in f.items()}


def _refs(w: Workload) -> str:
    return ", ".join(sorted(f"{r.env}={r.name}/{r.key}" for r in w.secret_env)) or "none"


def _fmt_map(d: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(d.items())) or "none"


def _res(r: Any) -> str:
    if r is None:
        return "none"
    parts = [f"requests {k}={v}" for k, v in sorted(r.requests.items())]
    parts += [f"limits {k}={v}" for k, v in sorted(r.limits.items())]
    return ", ".join(parts) or "none"


# --------------------------------------------------------------------------- images on the engine


def split_ref(ref: str) -> tuple[str, str | None, str | None]:
    """``repo[:tag][@sha256:...]`` -> (repo, tag, digest); a registry port is not a tag."""
    name, _, digest = ref.partition("@")
    repo, tag = name, None
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        repo, tag = name[:colon], name[colon + 1:]
    return repo, tag, digest or None


def check_images_present(spec: TenantSpec, client: Any, pull: bool = True,
                         what: str = "pinned production image(s)", dev_hint: bool = True) -> list[str]:
    """Make sure every pinned image of ``spec`` is on the engine, pulling what is missing.

    Returns warnings (an image found by tag whose digest cannot be verified, as after
    ``docker load`` or ``docker tag``); raises one ``DevenvError`` naming every image that is
    neither present nor pullable, and the three ways to provide it. ``devenv up`` runs the same
    check for backing services that only name a registry image (``what``; no ``--dev`` hint)."""
    warnings: list[str] = []
    missing: list[str] = []
    for w in spec.workloads.values():
        if w.build_image is not None or not w.image_ref:
            continue
        found, note = _find_image(client, w.image_ref)
        if not found and pull:
            found, note = _pull(client, w.image_ref)
        if found and note:
            warnings.append(f"{w.name}: {note}")
        elif not found:
            missing.append(f"{w.name}: {w.image_ref}" + (f" ({note})" if note else ""))
    if missing:
        hint = _missing_hint(spec, missing)
        raise DevenvError(_missing_message(spec, missing, what), hint if dev_hint else hint.rpartition(" Or build")[0])
    return warnings


def _find_image(client: Any, ref: str) -> tuple[bool, str]:
    """Present by the full reference, by ``repo@digest``, or by ``repo:tag`` when that image's
    RepoDigests hold the digest; a tag-only match with no recorded digest is accepted with a
    warning (images that came through ``docker load`` or ``docker tag`` carry none)."""
    repo, tag, digest = split_ref(ref)
    for candidate in dict.fromkeys([ref, f"{repo}@{digest}" if digest else ref]):
        if _get(client, candidate) is not None:
            return True, ""
    if not (digest and tag):
        return False, ""
    img = _get(client, f"{repo}:{tag}")
    if img is None:
        return False, ""
    repo_digests = [str(d) for d in (getattr(img, "attrs", {}) or {}).get("RepoDigests") or []]
    if any(d.endswith("@" + digest) for d in repo_digests):
        return True, ""
    if repo_digests:
        return False, f"{repo}:{tag} is present but is not {digest[:19]}..."
    return True, f"{repo}:{tag} found locally; its digest cannot be verified (loaded or tagged image)"


def _get(client: Any, name: str) -> Any:
    import docker.errors

    try:
        return client.images.get(name)
    except docker.errors.ImageNotFound:
        return None
    except docker.errors.APIError as exc:  # an invalid reference answers 400; treat as absent
        if getattr(exc, "status_code", None) in (400, 404):
            return None
        raise _engine_error(exc) from exc
    except OSError as exc:  # requests' ConnectionError
        raise _engine_error(exc) from exc


def _pull(client: Any, ref: str) -> tuple[bool, str]:
    """Pull by digest where there is one (a tag can move; the digest is what production runs)."""
    import docker.errors

    repo, tag, digest = split_ref(ref)
    try:
        if digest:
            client.images.pull(repo, tag=digest)
        else:
            client.images.pull(repo, tag=tag or "latest")
    except (docker.errors.DockerException, OSError) as exc:
        reason = getattr(exc, "explanation", None) or str(exc)
        return False, "pull failed: " + str(reason).splitlines()[0][:160]
    return True, ""


def _engine_error(exc: BaseException) -> DevenvError:
    from devenv.errors import EngineError

    return EngineError(f"the Docker engine did not answer an image lookup ({type(exc).__name__})",
                       "check `docker info`; `devenv doctor` says how to start the engine")


def _missing_message(spec: TenantSpec, missing: list[str], what: str = "pinned production image(s)") -> str:
    return (f"tenant {spec.name}: {len(missing)} {what} are not on this machine "
            "and could not be pulled:\n    " + "\n    ".join(missing))


def _registry(repo: str) -> str:
    """The registry host of a repository: its first part when that names a host, else Docker Hub."""
    first, sep, _ = repo.partition("/")
    return first if sep and ("." in first or ":" in first or first == "localhost") else "docker.io"


def _missing_hint(spec: TenantSpec, missing: list[str]) -> str:
    first = missing[0].split(": ", 1)[1].split(" (", 1)[0]
    repo, tag, digest = split_ref(first)
    by_digest = f"{repo}@{digest}" if digest else first
    tag_ref = f"{repo}:{tag}" if tag else repo
    comp = missing[0].split(":", 1)[0]
    return ("provide each image one of three ways: "
            f"`docker login {_registry(repo)}` then `docker pull {by_digest}`; "
            f"or on a machine that has it `docker save {first} -o image.tar`, here `docker load -i image.tar`; "
            f"or reuse a local image: `docker tag <local image> {tag_ref}` (a digest cannot be tagged: devenv "
            f"then accepts the tag and warns). Or build that component from source: --dev {comp}")
