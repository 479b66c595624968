"""Read production's Kubernetes manifests into a devenv project (``devenv init --from-k8s``).

Input: a file or a folder of manifests: a ``kubectl get -o yaml`` List, multi-document YAML,
``helm template`` or ``kubectl kustomize`` output. They are parsed by the importer's reader (size,
alias and depth limits, every field type-checked with its line, Secrets reduced to names and keys
before anything else sees them), so the same manifests give the same answers here and in
``devenv import``.

* Each Deployment/StatefulSet becomes a component, named as ``devenv import`` will look for it
  (``importer.name_candidates``: the component label, the name label, the object's name without
  its release prefix; the first that no other workload shares).
* Backing services are recognised by image (postgres, redis, mysql, mongo, rabbitmq, ...) or as a
  StatefulSet with volume claim templates; they go under ``services:``.
* A component is built from source when ``--context COMPONENT=DIR`` names its build context or a
  Dockerfile is found beside the manifests (``<component>/Dockerfile``, ``Dockerfile.<component>``,
  ...); otherwise it runs production's image (``ref:``). Either way the profile pins production's
  image.
* Container ports (and the Services' target ports), the readiness probe as devenv's health check,
  plain env with ConfigMap references resolved, command/args, working directory and volume claims
  go to ``devenv.yaml``; the tenant's replicas, resources, placement, probes, service account and
  secret references (names and keys only) go to ``profiles/<tenant>.yaml``, written by the
  importer itself from the same objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devenv import importer
from devenv.adopt import credrefs
from devenv.adopt.result import Adopted, dns_name
from devenv.errors import DevenvError
from devenv.importer import mappings
from devenv.model.dumpyaml import line_of, read_text_bounded
from devenv.model.parse import parse_app

Obj = dict[str, Any]
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
MAX_FILES = 500
BACKING = re.compile(r"(^|[/_-])(postgres(ql)?|postgis|redis|valkey|keydb|mysql|mariadb|mongo(db)?|rabbitmq|"
                     r"memcached|elasticsearch|opensearch|kafka|zookeeper|nats|minio|cassandra|etcd|clickhouse)"
                     r"([:@/_-]|$)")
HTTP_NAMES = re.compile(r"^(http|https|web|www|api|ui|grpc-web|http-.*|.*-http)$")
HTTP_PORTS = {80, 3000, 4000, 5000, 8000, 8008, 8080, 8081, 8888, 9000}
DOCKERFILE_PLACES = ("{c}/Dockerfile", "src/{c}/Dockerfile", "services/{c}/Dockerfile", "apps/{c}/Dockerfile",
                     "cmd/{c}/Dockerfile", "Dockerfile.{c}", "{c}.Dockerfile", "docker/{c}/Dockerfile")


@dataclass
class _Found:
    """One workload of the manifests and the component it becomes."""

    component: str
    obj: Obj
    file: str
    container: Obj
    service: bool


def read_k8s(path: Path, root: Path, tenant: str, contexts: dict[str, Path] | None = None) -> Adopted:
    """The devenv project for the manifests at ``path``, written into ``root``."""
    root = root.resolve()
    files = manifest_files(path)
    shown = _shown(path, root)
    adopted = Adopted(tenant=tenant, source=shown)
    objects, origin = _read_objects(files, root)
    found = _workloads(objects, origin, adopted, tenant)
    if not found:
        adopted.refuse(shown, None, "", "no Deployment or StatefulSet in the manifests",
                       "pass the output of `helm template`, `kubectl kustomize` or `kubectl get deploy,sts,"
                       "svc,cm,secret -o yaml`")
        return adopted
    namespace = _namespace(found, tenant)
    base = path if path.is_dir() else path.parent
    app = _app_doc(found, objects, root, base.resolve(), contexts or {}, adopted)
    inline = _secret_env_refs(app)
    adopted.app = app
    result = importer.import_profile(tenant, objects, parse_app(app, root, root / "devenv.yaml"), namespace)
    _reference_inline(result.profile, inline)
    said = {n.message.split(": ", 1)[-1] for n in adopted.notes}
    for note in result.notes:
        if note.split(": ", 1)[-1] not in said:
            adopted.note(shown, None, "", note)
    adopted.profile = result.profile
    adopted.overlay = _overlay(result.profile, app)
    _local_hosts(found, objects, app, adopted)
    return adopted


def _reference_inline(profile: dict[str, Any], inline: dict[str, list[str]]) -> None:
    for comp, names in inline.items():
        refs = profile.setdefault("components", {}).setdefault(comp, {}).setdefault("secrets", [])
        refs += [{"name": f"{comp}-env", "key": n, "env": n} for n in names]


# --------------------------------------------------------------------------- reading


def manifest_files(path: Path) -> list[Path]:
    """``path`` itself, or the YAML/JSON files under it in name order (hidden ones skipped). A
    FIFO or a device among them is kept, to be refused with its name when read, not skipped."""
    if not path.exists():
        raise DevenvError(f"{path}: no such file or folder", "pass the manifests: a file or a folder of YAML files")
    if not path.is_dir():
        return [path]
    files = sorted(p for p in path.rglob("*") if p.suffix in MANIFEST_SUFFIXES and not p.is_dir()
                   and not any(part.startswith(".") for part in p.relative_to(path).parts))
    if not files:
        raise DevenvError(f"no manifests (*.yaml, *.yml, *.json) in {path}",
                          "save them first: `helm template REL CHART > prod.yaml` or `kubectl kustomize DIR > prod.yaml`")
    if len(files) > MAX_FILES:
        raise DevenvError(f"{path} holds {len(files)} YAML files; more than {MAX_FILES} is not one app's manifests",
                          "pass the folder of one app's rendered manifests")
    return files


def _shown(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root))
    except ValueError:
        return str(path)


def _read_objects(files: list[Path], root: Path) -> tuple[list[Obj], dict[int, str]]:
    """Every object, and the file each came from (by ``id``); Secrets are names and keys only."""
    objects: list[Obj] = []
    origin: dict[int, str] = {}
    for f in files:
        shown = _shown(f, root)
        for obj in importer.parse_dump(read_text_bounded(f, "manifest"), shown):
            objects.append(obj)
            origin[id(obj)] = shown
    return objects, origin


def _workloads(objects: list[Obj], origin: dict[int, str], adopted: Adopted, tenant: str) -> list[_Found]:
    workloads = [o for o in objects if o.get("kind") in importer.WORKLOAD_KINDS]
    names = _component_names(workloads, tenant)
    out: list[_Found] = []
    for obj in workloads:
        file = origin.get(id(obj), adopted.source)
        container = importer.main_container(names[id(obj)], obj, [])
        if container is None:
            adopted.note(file, line_of(obj), "", f"{obj['kind']} {_name(obj)} has no containers; skipped")
            continue
        out.append(_Found(names[id(obj)], obj, file, container, _is_backing(obj, container)))
    return out


def _component_names(workloads: list[Obj], tenant: str) -> dict[int, str]:
    """For each workload, the first name candidate no other workload shares (as DNS labels);
    prefixes are stripped as ``devenv import`` strips them (namespace, tenant)."""
    def prefixes(o: Obj) -> tuple[str, ...]:
        return (str((o.get("metadata") or {}).get("namespace") or ""), f"tenant-{tenant}", tenant)

    cands = {id(o): [dns_name(c) for c in importer.name_candidates(o, prefixes(o))] or [dns_name(_name(o))]
             for o in workloads}
    counts: dict[str, int] = {}
    for names in cands.values():
        for n in set(names):
            counts[n] = counts.get(n, 0) + 1
    out: dict[int, str] = {}
    taken: set[str] = set()
    for o in workloads:
        options = cands[id(o)]
        name = next((n for n in options if counts[n] == 1 and n not in taken), None)
        if name is None:
            name = _unique(options[-1], taken)
        taken.add(name)
        out[id(o)] = name
    return out


def _unique(name: str, taken: set[str]) -> str:
    i, out = 2, name
    while out in taken:
        out, i = f"{name}-{i}", i + 1
    return out


def _name(o: Obj) -> str:
    return str((o.get("metadata") or {}).get("name", ""))


def _pod(obj: Obj) -> Obj:
    return ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}


def _is_backing(obj: Obj, container: Obj) -> bool:
    """A data store: a well-known image, or a StatefulSet that claims its own volumes."""
    image = str(container.get("image", "")).rsplit("/", 1)[-1]
    if BACKING.search(image.lower()):
        return True
    return obj.get("kind") == "StatefulSet" and bool((obj.get("spec") or {}).get("volumeClaimTemplates"))


def _namespace(found: list[_Found], tenant: str) -> str:
    seen = sorted({str(ns) for f in found if (ns := (f.obj.get("metadata") or {}).get("namespace"))})
    if len(seen) > 1:
        raise DevenvError(f"the manifests hold workloads of several namespaces: {', '.join(seen)}",
                          "pass one tenant's manifests (one namespace); import the others with `devenv import`")
    return seen[0] if seen else f"tenant-{tenant}"


# --------------------------------------------------------------------------- devenv.yaml


def _app_doc(found: list[_Found], objects: list[Obj], root: Path, base: Path, contexts: dict[str, Path],
             adopted: Adopted) -> dict[str, Any]:
    configmaps = {_name(o): {str(k): importer._str(v) for k, v in (o.get("data") or {}).items()}
                  for o in objects if o.get("kind") == "ConfigMap"}
    secrets = {_name(o): list(o.get("keys") or ()) for o in objects if o.get("kind") == "Secret"}
    services = [o for o in objects if o.get("kind") == "Service"]
    images: dict[str, Any] = {}
    comps: dict[str, Any] = {}
    backing: dict[str, Any] = {}
    unknown = set(contexts) - {f.component for f in found}
    if unknown:
        raise DevenvError(f"--context names no workload of the manifests: {', '.join(sorted(unknown))}",
                          f"components: {', '.join(f.component for f in found)}")
    for f in found:
        doc = _component(f, configmaps, secrets, services, adopted)
        context = _build_context(f, root, base, contexts, adopted)
        if context is not None:
            images[f.component] = context
            doc = {"image": f.component, **doc}
        else:
            doc = {"ref": str(f.container.get("image", "")), **doc}
        (backing if f.service else comps)[f.component] = doc
    _depends(comps, backing, {f.component: {_name(s) for s in _selecting(services, f.obj)} for f in found})
    app: dict[str, Any] = {"name": _app_name(found, base), "default_tenants": [adopted.tenant],
                           "port_base": 18000, "ports_per_tenant": _ports_per_tenant(comps, backing)}
    for key, value in (("images", images), ("components", comps), ("services", backing)):
        if value:
            app[key] = value
    return app


def _app_name(found: list[_Found], base: Path) -> str:
    for f in found:
        labels = {**((f.obj.get("metadata") or {}).get("labels") or {})}
        for key in ("app.kubernetes.io/part-of", "helm.sh/chart"):
            if labels.get(key):
                return dns_name(re.sub(r"-v?\d+(\.\d+)*([-+].*)?$", "", str(labels[key])))
    return dns_name(base.name)


def _ports_per_tenant(*sections: dict[str, Any]) -> int:
    n = sum(len(c.get("ports") or ()) for s in sections for c in s.values())
    return max(20, -(-n // 10) * 10)


def _inline_credentials(f: _Found, doc: dict[str, Any], adopted: Adopted) -> None:
    """A credential written inline in production's command or args (``--requirepass s3cr3t``) is
    never copied into devenv.yaml: the command runs through ``sh -c`` with ``"${VAR}"`` in its place
    and ``VAR`` becomes a secret reference of the component (``_secret_env``, into the profile); the
    value itself is not kept anywhere (locally devenv generates one, or devenv.personal.yaml sets it)."""
    tokens = [*doc.get("entrypoint", []), *doc.get("command", [])]
    found = credrefs.inline_credentials(tokens, f.component)
    if not found:
        return
    doc["entrypoint"] = credrefs.referenced_command(tokens, found)
    doc.pop("command", None)
    doc["_secret_env"] = sorted(found)
    where = "command" if f.container.get("command") else "args"
    adopted.note(f.file, line_of(f.container, where) or line_of(f.container), where,
                 f"{f.component}: {', '.join(sorted(found))} written inline look like credentials: devenv.yaml runs the "
                 f"command through `sh -c` with {credrefs.refs(sorted(found))} in their place and the profile references "
                 f"secret '{f.component}-env' for them; the values are not kept (set them in devenv.personal.yaml, "
                 "or devenv generates them; production should keep them in a Secret)")


def _secret_env_refs(app: dict[str, Any]) -> dict[str, list[str]]:
    """Pop what ``_inline_credentials`` marked: component -> variables to reference as secrets."""
    return {name: comp.pop("_secret_env") for section in ("components", "services")
            for name, comp in (app.get(section) or {}).items() if "_secret_env" in comp}


def _component(f: _Found, configmaps: dict[str, dict[str, str]], secrets: dict[str, list[str]],
               services: list[Obj], adopted: Adopted) -> dict[str, Any]:
    c = f.container
    doc: dict[str, Any] = {}
    if c.get("command"):
        doc["entrypoint"] = [str(x) for x in c["command"]]
    if c.get("args"):
        doc["command"] = [str(x) for x in c["args"]]
    _inline_credentials(f, doc, adopted)
    if c.get("workingDir"):
        doc["working_dir"] = str(c["workingDir"])
    ports = _ports(f, services, adopted)
    if ports:
        doc["ports"] = ports
    health = _health(f, ports, adopted)
    if health:
        doc["health"] = health
    notes: list[str] = []
    env, _refs = importer.container_env(f.component, c, configmaps, secrets, notes)
    for n in notes:
        adopted.note(f.file, line_of(c, "env") or line_of(c), "env", n.split(": ", 1)[-1])
    if env:
        doc["env"] = dict(sorted(env.items()))
    volumes = _volumes(f, adopted)
    if volumes:
        doc["volumes"] = volumes
    return doc


def _ports(f: _Found, services: list[Obj], adopted: Adopted) -> list[dict[str, Any]]:
    """The container's ports, plus the target ports of the Services that select it."""
    out: list[dict[str, Any]] = []
    names: set[str] = set()
    probe_ports = _probe_http_ports(f.container)

    def add(name: str, port: int) -> None:
        if any(p["container"] == port for p in out):
            return
        n = _unique(dns_name(name)[:15].strip("-") or f"p{port}", names)
        names.add(n)
        http = bool(HTTP_NAMES.match(name)) or port in HTTP_PORTS or port in probe_ports
        out.append({"name": n, "container": port, **({"http": True} if http else {})})

    named: dict[str, int] = {}
    for p in mappings(f.container.get("ports")):
        if isinstance(p.get("containerPort"), int):
            named[str(p.get("name") or "")] = p["containerPort"]
            add(str(p.get("name") or f"p{p['containerPort']}"), p["containerPort"])
    for svc in _selecting(services, f.obj):
        for p in mappings((svc.get("spec") or {}).get("ports")):
            target = p.get("targetPort", p.get("port"))
            target = named.get(str(target), target)
            if isinstance(target, int):
                add(str(p.get("name") or f"p{target}"), target)
            if isinstance(p.get("port"), int) and p.get("port") != target:
                adopted.note(f.file, line_of(p, "port") or line_of(p), "port",
                             f"Service {_name(svc)} port {p['port']} -> {target}: locally the component is "
                             f"reached on its container port {target}")
    return out


def _selecting(services: list[Obj], workload: Obj) -> Iterable[Obj]:
    labels = {str(k): importer._str(v) for k, v in
              ((((workload.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {}).items()}
    ns = (workload.get("metadata") or {}).get("namespace")
    for svc in services:
        sel = {str(k): importer._str(v) for k, v in ((svc.get("spec") or {}).get("selector") or {}).items()}
        same_ns = (svc.get("metadata") or {}).get("namespace") in (ns, None) or ns is None
        if sel and same_ns and all(labels.get(k) == v for k, v in sel.items()):
            yield svc


def _probe_http_ports(c: Obj) -> set[int]:
    named = {str(p.get("name")): p.get("containerPort") for p in mappings(c.get("ports"))}
    out: set[int] = set()
    for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
        port = ((c.get(kind) or {}).get("httpGet") or {}).get("port")
        port = named.get(str(port), port)
        if isinstance(port, int):
            out.add(port)
    return out


def _health(f: _Found, ports: list[dict[str, Any]], adopted: Adopted) -> dict[str, Any] | None:
    """The readiness probe (else the startup or liveness probe) as devenv's health check; the
    probes themselves stay in the profile for ``render --env prod``."""
    c = f.container
    probe = c.get("readinessProbe") or c.get("startupProbe") or c.get("livenessProbe")
    if not probe:
        return None
    if importer.holds_credential(probe):  # devenv.yaml is committed: no token from a header or a command
        adopted.note(f.file, line_of(c), "readinessProbe", f"{f.component}: the probe holds an inline credential; "
                     "no health check is written (add one to devenv.yaml that reads it from the env)")
        return None
    out: dict[str, Any] = {}
    named = {str(p.get("name")): p.get("containerPort") for p in mappings(c.get("ports"))}
    if isinstance(probe.get("httpGet"), dict):
        port = probe["httpGet"].get("port")
        port = named.get(str(port), port)
        if not isinstance(port, int) or not any(p["container"] == port for p in ports):
            return None
        out = {"http": str(probe["httpGet"].get("path") or "/"), "port": port}
    elif isinstance(probe.get("exec"), dict) and probe["exec"].get("command"):
        out = {"cmd": [str(x) for x in probe["exec"]["command"]]}
    else:
        adopted.note(f.file, line_of(probe), "readinessProbe", f"{f.component}: a {next(iter(probe), '?')} probe has "
                     "no devenv health check equivalent; kept for `render --env prod` only")
        return None
    for src, dst in (("periodSeconds", "interval"), ("timeoutSeconds", "timeout"), ("failureThreshold", "retries"),
                     ("initialDelaySeconds", "start_period")):
        if isinstance(probe.get(src), int) and probe[src] > 0:
            out[dst] = probe[src]
    return out


def _volumes(f: _Found, adopted: Adopted) -> list[dict[str, str]]:
    """Volume claims (a StatefulSet's templates, a Deployment's PVC volumes) where the container
    mounts them; other volume kinds (ConfigMaps, emptyDir, host paths) are noted."""
    mounts = {str(m.get("name")): str(m.get("mountPath")) for m in mappings(f.container.get("volumeMounts"))}
    claims = [str((t.get("metadata") or {}).get("name", "")) for t in mappings((f.obj.get("spec") or {}).get(
        "volumeClaimTemplates"))]
    out: list[dict[str, str]] = []
    for vol in mappings(_pod(f.obj).get("volumes")):
        if vol.get("persistentVolumeClaim"):
            claims.append(str(vol.get("name")))
        elif str(vol.get("name")) in mounts:
            kind = next((k for k in vol if k != "name"), "volume")
            adopted.note(f.file, line_of(vol), "volumes", f"{f.component}: {kind} volume {vol.get('name')} at "
                         f"{mounts[str(vol.get('name'))]} is not carried (devenv mounts named volumes only)")
    for claim in claims:
        if claim in mounts:
            out.append({"name": dns_name(f"{f.component}-{claim}"), "target": mounts[claim]})
    return out


def _depends(comps: dict[str, Any], backing: dict[str, Any], service_names: dict[str, set[str]]) -> None:
    """An app component depends on the backing services its env names by host
    (``DB_HOST=shopfront-postgresql``, ``redis://redis:6379``): the component or one of its Services."""
    for doc in comps.values():
        hosts = {h.split(".")[0] for v in (doc.get("env") or {}).values()
                 for h in re.findall(r"[a-z0-9][-a-z0-9.]*", str(v))}
        deps = [name for name in backing if hosts & ({name} | service_names.get(name, set()))]
        if deps:
            doc["depends_on"] = deps


# --------------------------------------------------------------------------- build contexts


def _build_context(f: _Found, root: Path, base: Path, contexts: dict[str, Path],
                   adopted: Adopted) -> dict[str, Any] | None:
    """``--context COMPONENT=DIR``, else a Dockerfile found beside the manifests (or in the
    project); backing services run their image unless a context is given."""
    if f.component in contexts:
        ctx = contexts[f.component].resolve()
        if not (ctx / "Dockerfile").is_file():
            raise DevenvError(f"--context {f.component}={contexts[f.component]}: no Dockerfile in {ctx}",
                              "point --context at the folder that holds the component's Dockerfile")
        return {"context": _inside(ctx, root, f.component)}
    if f.service:
        return None
    image_base = str(f.container.get("image", "")).rsplit("/", 1)[-1].split("@")[0].split(":")[0]
    for folder in dict.fromkeys((base, base.parent, root)):
        for name in dict.fromkeys((f.component, image_base)):
            for place in DOCKERFILE_PLACES:
                path = folder / place.format(c=name)
                if name and path.is_file():
                    adopted.note(f.file, line_of(f.obj), "", f"{f.component}: built from source with "
                                 f"{_shown(path, root)} (found beside the manifests)")
                    found: dict[str, Any] = {"context": _inside(path.parent, root, f.component)}
                    return found if path.name == "Dockerfile" else {**found, "dockerfile": path.name}
    return None


def _inside(ctx: Path, root: Path, component: str) -> str:
    try:
        rel = ctx.resolve().relative_to(root)
    except ValueError:
        raise DevenvError(f"the build context of {component} ({ctx}) is outside the project {root}",
                          "run init from a folder that holds the sources (--root DIR), or move them in") from None
    return str(rel) if str(rel) != "." else "."


# --------------------------------------------------------------------------- devenv.local.yaml


def _local_hosts(found: list[_Found], objects: list[Obj], app: dict[str, Any], adopted: Adopted) -> None:
    """Production's env names Services (``DB_HOST=shopfront-postgresql``, maybe with
    ``.ns.svc.cluster.local``); locally each component answers to its own name. Such values get a
    local override in ``devenv.local.yaml`` (``defaults.env``), so the adopted app finds its
    backing services on both backends and ``devenv diff`` says why the value differs."""
    services = [o for o in objects if o.get("kind") == "Service"]
    renames = {_name(s): f.component for f in found for s in _selecting(services, f.obj) if _name(s) != f.component}
    if not renames:
        return
    pattern = re.compile(r"(?<![A-Za-z0-9.-])(" + "|".join(re.escape(n) for n in sorted(renames, key=len, reverse=True))
                         + r")(\.[a-z0-9-]+(\.svc(\.cluster\.local)?)?)?(?![A-Za-z0-9-])")
    local: dict[str, str] = {}
    clash: set[str] = set()
    for doc in (app.get("components") or {}).values():
        for key, value in (doc.get("env") or {}).items():
            new = pattern.sub(lambda m: renames[m.group(1)], str(value))
            if new != str(value):
                clash |= {key} if local.get(key, new) != new else set()
                local[key] = new
    comps = list((app.get("components") or {}).values())
    partial = {k for k in local if not all(k in (c.get("env") or {}) for c in comps)}  # the overlay's env is
    for key in sorted(clash | partial):  # every app component's: it must not add a variable to one
        del local[key]
        adopted.note(adopted.source, None, "env", f"{key} names a production Service, but not the same way in "
                     "every app component; point it at the local component name yourself (devenv.personal.yaml)")
    if local:
        adopted.overlay.setdefault("defaults", {})["env"] = dict(sorted(local.items()))
        adopted.note(adopted.source, None, "env", f"{', '.join(sorted(local))}: production's Service names "
                     "replaced by component names for local runs (devenv.local.yaml defaults.env)")




def _overlay(profile: dict[str, Any], app: dict[str, Any]) -> dict[str, Any]:
    """A laptop runs one replica of each app component and reserves no production resources."""
    comps = profile.get("components") or {}
    replicas = {name: 1 for name in app.get("components") or {}
                if int((comps.get(name) or {}).get("replicas", 1)) > 1}
    defaults: dict[str, Any] = {}
    if replicas:
        defaults["replicas"] = replicas
    if any("resources" in (c or {}) for c in comps.values()):
        defaults["drop_resources"] = True
    return {"defaults": defaults}
