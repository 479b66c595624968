"""A tenant as a compose file: what the compose backend hands to the real ``docker compose``.

``render_compose`` is pure (the spec, image refs and fragments in, a dict out) so it is golden-
tested; ``load_fragments`` is the only I/O here and stays separate. The file is meant to be read
and rerun by people, so it carries no secret values: those reach containers through
``env_file`` (see ``devenv.secrets``).

Isolation: one compose project per tenant (``name: devenv-<tenant>``) whose ``default`` network
has an explicit per-tenant name, so two tenants never share a network even if a fragment or a user
adds services. Ports publish on 127.0.0.1 unless ``expose``.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

from devenv.errors import DevenvError
from devenv.model.types import (
    LABEL_COMPONENT,
    LABEL_MANAGED,
    LABEL_PROJECT,
    LABEL_TENANT,
    Health,
    Project,
    TenantSpec,
    Workload,
)

FRAGMENTS_DIR = "compose"
OVERRIDE_FRAGMENT = "override"

Fragments = dict[str, Any]  # {"services": {component: partial service}, "override": partial file}


def labels(project: Project, spec: TenantSpec, component: str | None = None) -> dict[str, str]:
    """The labels teardown and status select on; every object devenv creates carries them."""
    out = {LABEL_PROJECT: project.app.name, LABEL_TENANT: spec.name}
    if component is not None:
        out[LABEL_COMPONENT] = component
    out[LABEL_MANAGED] = "true"
    return out


def image_for(w: Workload, images: dict[str, str]) -> str:
    """Built-from-source workloads take the builder's ref; pinned/external ones keep theirs."""
    if w.build_image is not None:
        try:
            return images[w.build_image]
        except KeyError:
            raise DevenvError(f"no image reference for image '{w.build_image}' (component {w.name})",
                              "build the image first; the builder supplies its content tag") from None
    if w.image_ref is None:
        raise DevenvError(f"component {w.name} has neither an image to build nor a reference")
    return w.image_ref


def escape(value: str) -> str:
    """Compose interpolates ``$VAR`` in every string of the file; a literal ``$`` is ``$$``."""
    return value.replace("$", "$$")


def duration(seconds: float) -> str:
    """Compose durations: ``2s``, ``1500ms``."""
    if seconds == int(seconds):
        return f"{int(seconds)}s"
    return f"{math.ceil(seconds * 1000)}ms"


def http_probe(port: int, path: str) -> list[str]:
    """An HTTP check that starts no interpreter: bash's ``/dev/tcp`` sends one GET and reads the
    status line (2xx/3xx passes). A health check runs in every container every few seconds; a
    Python start per check (~50 ms of CPU, seconds on a loaded laptop) saturated 2 cores at ten
    tenants and timed checks out. Images without bash fall back to ``python3``'s urllib, then
    fail (curl and wget are not guaranteed)."""
    url = f"http://127.0.0.1:{port}{path}"
    tcp = (f"exec 3<>/dev/tcp/127.0.0.1/{port} && printf 'GET {path} HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3"
           " && read -r -t 4 _ code _ <&3 && case \\$code in 2??|3??) exit 0;; esac; exit 1")
    py = f"import urllib.request; urllib.request.urlopen('{url}', timeout=2)"
    return ["CMD-SHELL", f'if command -v bash >/dev/null; then exec bash -c "{tcp}"; else exec python3 -c "{py}"; fi']


# Health checks the whole project may run per second on the laptop. Each one is an exec through
# dockerd, containerd and runc (~80 ms of the engine's CPU here, whatever the check runs): ten
# tenants of the sample at their profiles' 2 s and 5 s kept 1.3 cores busy in the engine alone.
CHECKS_PER_SECOND = 5.0


def interval_floor(project: Project) -> float:
    """The shortest interval a check may have: the project's checks (every tenant's profile counts,
    running or not, so a tenant's file does not change when another starts) share the budget.
    The sample's 3 tenants: 3 s; 10 tenants: 10 s. dockerd 20.10 has no ``start_interval``, so
    the first check also waits one interval: a bigger project starts a little later, idles cool.
    Local only: ``render --env prod`` keeps the profiles' intervals."""
    checked = sum(1 for c in project.app.components.values() if c.health is not None)
    return round(len(project.profiles) * checked / CHECKS_PER_SECOND, 1)


def healthcheck(h: Health, w: Workload, floor: float = 0.0) -> dict[str, Any]:
    if h.cmd:
        test = ["CMD", *h.cmd]
    else:
        port = h.port or (w.ports[0].container if w.ports else 80)
        test = http_probe(port, h.http or "/")
    return {
        "test": [escape(t) for t in test],
        "interval": duration(max(h.interval, floor)),
        "timeout": duration(h.timeout),
        "retries": h.retries,
        "start_period": duration(h.start_period),
    }


def ports(w: Workload, expose: bool) -> list[dict[str, Any]]:
    host_ip = "0.0.0.0" if expose else "127.0.0.1"
    return [
        {"name": p.name, "target": p.container, "host_ip": host_ip, "published": str(p.host), "protocol": "tcp"}
        for p in w.ports
    ]


def depends_on(spec: TenantSpec, w: Workload) -> dict[str, dict[str, str]]:
    """Wait for a dependency's health where it has a check; otherwise only for its start."""
    out = {}
    for dep in w.depends_on:
        if dep in spec.workloads and spec.workloads[dep].replicas == 0:
            continue  # stopped by `replicas: 0`: nothing to wait for (compose would wait forever)
        has_health = spec.workloads[dep].health is not None
        out[dep] = {"condition": "service_healthy" if has_health else "service_started"}
    return out


def env_file_for(secrets_env_file: str | dict[str, str] | None, w: Workload) -> str | None:
    """A component's secrets file: per component (each gets only its own secrets), or one path
    for all (older callers)."""
    if not w.secret_env or not secrets_env_file:
        return None
    return secrets_env_file.get(w.name) if isinstance(secrets_env_file, dict) else secrets_env_file


def service(project: Project, spec: TenantSpec, w: Workload, images: dict[str, str],
            secrets_env_file: str | dict[str, str] | None, expose: bool) -> dict[str, Any]:
    svc: dict[str, Any] = {"image": image_for(w, images)}
    if w.build_image is not None:
        svc["pull_policy"] = "never"  # a content tag exists only locally; pulling it can only fail
    if w.entrypoint is not None:
        svc["entrypoint"] = [escape(c) for c in w.entrypoint]
    if w.command:
        svc["command"] = [escape(c) for c in w.command]
    if w.user is not None:
        svc["user"] = escape(w.user)
    if w.working_dir is not None:
        svc["working_dir"] = escape(w.working_dir)
    if w.env:
        svc["environment"] = {k: escape(v) for k, v in sorted(w.env.items())}
    env_file = env_file_for(secrets_env_file, w)
    if env_file:
        svc["env_file"] = [env_file]
    if w.ports:
        svc["ports"] = ports(w, expose)
    if w.health is not None:
        svc["healthcheck"] = healthcheck(w.health, w, interval_floor(project) if spec.env == "local" else 0.0)
    if depends_on(spec, w):
        svc["depends_on"] = depends_on(spec, w)
    if w.volumes:
        svc["volumes"] = [{"type": "volume", "source": v.name, "target": v.target} for v in w.volumes]
    if (w.replicas > 1 and not w.ports) or w.replicas == 0:  # 0: defined, not started (as on Kubernetes)
        svc["deploy"] = {"replicas": w.replicas}
    svc["restart"] = w.restart
    svc["labels"] = labels(project, spec, w.name)
    return svc


def volumes(project: Project, spec: TenantSpec) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for w in spec.workloads.values():
        for v in w.volumes:
            out.setdefault(v.name, {"name": f"{spec.project}_{v.name}", "labels": labels(project, spec, w.name)})
    return out


def render_compose(
    project: Project,
    spec: TenantSpec,
    images: dict[str, str],
    secrets_env_file: str | dict[str, str] | None = None,
    expose: bool = False,
    fragments: Fragments | None = None,
) -> dict[str, Any]:
    """The compose file for one tenant. ``secrets_env_file`` (component -> a path compose can read,
    as ``secrets.write_env_files`` returns) is referenced by each service that needs secrets; ``None`` leaves secrets out entirely (printable output).
    ``fragments`` (from ``load_fragments``) are deep-merged last: a component's fragment into its
    service, ``override`` into the whole file."""
    doc: dict[str, Any] = {"name": spec.project, "services": {}}
    for w in spec.workloads.values():
        doc["services"][w.name] = service(project, spec, w, images, secrets_env_file, expose)
    doc["networks"] = {"default": {"name": spec.project, "labels": labels(project, spec)}}
    vols = volumes(project, spec)
    if vols:
        doc["volumes"] = vols
    return apply_fragments(doc, fragments or {})


def apply_fragments(doc: dict[str, Any], fragments: Fragments) -> dict[str, Any]:
    """Fragments for components this tenant does not run are skipped (a disabled component's
    tuning must not resurrect it as a half-defined service)."""
    out = copy.deepcopy(doc)
    for name, frag in fragments.get("services", {}).items():
        if name in out["services"]:
            out["services"][name] = deep_merge(out["services"][name], frag)
    override = fragments.get(OVERRIDE_FRAGMENT)
    return deep_merge(out, override) if override else out


def deep_merge(base: Any, extra: Any) -> Any:
    """Mappings merge key by key; anything else (lists included, e.g. ``command``) is replaced, as
    compose's own override files replace ``command``."""
    if isinstance(base, dict) and isinstance(extra, dict):
        out = dict(base)
        for k, v in extra.items():
            out[k] = deep_merge(base[k], v) if k in base else copy.deepcopy(v)
        return out
    return copy.deepcopy(extra)


def compose_warnings(project: Project, spec: TenantSpec, fragments: Fragments | None = None) -> list[str]:
    """What the renderer had to decide for the user; the command prints these on stderr."""
    out = []
    for w in spec.workloads.values():
        if w.replicas > 1 and w.ports:
            out.append(f"{spec.name}/{w.name}: {w.replicas} replicas wanted, running 1: a published "
                       "host port can be bound by one container only")
    known = set(project.app.components)
    for name in (fragments or {}).get("services", {}):
        if name not in known:
            out.append(f"{FRAGMENTS_DIR}/{name}.yaml: no component '{name}' in devenv.yaml; fragment ignored")
    return out


def load_fragments(root: Path) -> Fragments:
    """Read ``compose/<component>.yaml`` and ``compose/override.yaml`` (the I/O half of fragments)."""
    services: dict[str, Any] = {}
    override: dict[str, Any] = {}
    folder = root / FRAGMENTS_DIR
    if not folder.is_dir():
        return {"services": services, OVERRIDE_FRAGMENT: override}
    for path in sorted([*folder.glob("*.yaml"), *folder.glob("*.yml")]):
        data = _read_fragment(path)
        if path.stem == OVERRIDE_FRAGMENT:
            override = data
        else:
            services[path.stem] = data
    return {"services": services, OVERRIDE_FRAGMENT: override}


def _read_fragment(path: Path) -> dict[str, Any]:
    from devenv.model.yamlpos import compose_loader, load_yaml  # bounded, non-blocking, merge keys, lines

    doc, problems = load_yaml(path, None, compose_loader())  # a compose fragment: typed as compose types it
    errors = [p for p in problems if p.severity == "error"]
    if doc is None or errors:
        first = (errors or problems)[0]
        raise DevenvError(f"cannot read compose fragment {first}", first.hint or "fix the YAML in that file")
    data = doc.data
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DevenvError(f"compose fragment {path} is not a mapping",
                          "a fragment holds service keys, e.g. `shm_size: 128m`")
    return data
