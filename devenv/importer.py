"""Import a production tenant profile from what Kubernetes actually runs.

``devenv import`` turns a namespace (live, through ``kubectl get``, or a saved dump) into
``profiles/<tenant>.yaml``: the same shape production keeps, so a bug report "tenant X is broken"
can be reproduced from what X really runs rather than from what someone remembers.

Split in two on purpose:

* the pure core (``parse_dump``, ``import_profile``, ``profile_yaml``) takes objects and returns
  data, so it is tested on fixtures without a cluster;
* the thin I/O layer (``fetch_live``, ``read_dump_file``, ``write_atomic``) reads and writes.

Secrets: only names and keys ever leave ``parse_dump``. Secret ``data``/``stringData`` and every
annotation of a Secret (``kubectl apply`` copies the whole object, values included, into
``last-applied-configuration``) are dropped as soon as the YAML is parsed, and the live path asks
kubectl for the keys only, so the values never reach devenv at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import yaml

from devenv.errors import DevenvError
from devenv.fsutil import atomic_write
from devenv.model.types import App, Component
from devenv.proc import Runner

Obj = dict[str, Any]

WORKLOAD_KINDS = ("Deployment", "StatefulSet")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# Env var names whose *inline* values are almost surely credentials; they are never imported.
_SECRETISH = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIALS?)", re.IGNORECASE)
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_TENANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
# Per Secret: its name and key names on one line. Go's template `range` over `.data` yields the
# keys; the values are bound to $v and never printed.
SECRET_KEYS_ITEM = '{{.metadata.name}}{{range $k, $v := .data}} {{$k}}{{end}}{{"\\n"}}'


# --------------------------------------------------------------------------- parsing the dump


def parse_dump(text: str, source: str = "the dump") -> list[Obj]:
    """Objects of a ``kubectl get -o yaml`` dump (a ``v1 List``) or of multi-document YAML, with
    every Secret reduced to its name, type and key names before anything else sees it."""
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise DevenvError(f"{source} is not valid YAML{where}",
                          "save it with `kubectl get ... -o yaml > dump.yaml`") from None
    return [sanitize(o) for o in _flatten(docs)]


def _flatten(docs: Iterable[Any]) -> Iterator[Obj]:
    """Lists (``kind: List`` or ``*List``) are opened; anything that is not an object is skipped."""
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        if isinstance(doc.get("items"), list) and str(doc.get("kind", "")).endswith("List"):
            yield from _flatten(doc["items"])
        elif doc.get("kind"):
            yield doc


def sanitize(obj: Obj) -> Obj:
    """Drop what must never be written (Secret values) or is noise (managedFields, the
    last-applied copy). A Secret keeps only ``metadata.name/namespace/labels``, ``type`` and
    ``keys``: its value-bearing fields are not copied, so they cannot leak later."""
    if obj.get("kind") == "Secret":
        meta = obj.get("metadata") or {}
        keys = set((obj.get("data") or {}).keys()) | set((obj.get("stringData") or {}).keys())
        keys |= set(obj.get("keys") or ())
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {k: meta[k] for k in ("name", "namespace", "labels") if k in meta},
            "type": obj.get("type", "Opaque"),
            "keys": sorted(str(k) for k in keys),
        }
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        meta.pop("managedFields", None)
        if isinstance(meta.get("annotations"), dict):
            meta["annotations"].pop(LAST_APPLIED, None)
    return obj


def secrets_from_keys_listing(text: str, namespace: str) -> list[Obj]:
    """Secrets from the live path's ``go-template`` listing: one line ``name key key ...``."""
    out: list[Obj] = []
    for line in text.splitlines():
        parts = line.split()
        if parts:
            out.append({"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                        "metadata": {"name": parts[0], "namespace": namespace}, "keys": sorted(parts[1:])})
    return out


# --------------------------------------------------------------------------- the pure core


@dataclass
class ImportResult:
    """The profile document plus everything the user should know about how it was made."""

    profile: dict[str, Any]
    notes: list[str] = field(default_factory=list)  # choices made and things left out
    ports: dict[str, list[str]] = field(default_factory=dict)  # component -> "service web 80->8000/TCP"
    namespace: str = ""


@dataclass
class _Workload:
    """One Deployment/StatefulSet reduced to what a profile keeps."""

    component: str
    obj: Obj
    container: Obj
    env: dict[str, str]
    secret_env: dict[str, tuple[str, str]]  # env var -> (secret name, key)


def profile_from_objects(tenant: str, objects: list[Obj], app: App) -> dict[str, Any]:
    """The profile document for ``tenant`` (same shape as ``profiles/*.yaml``)."""
    return import_profile(tenant, objects, app).profile


def import_profile(tenant: str, objects: list[Obj], app: App, namespace: str | None = None) -> ImportResult:
    """Build the profile and say what was decided. Objects must come through ``parse_dump`` (or
    ``sanitize``) so that no Secret value is present."""
    objects = [sanitize(o) for o in objects]
    res = ImportResult(profile={})
    ns = _pick_namespace(objects, namespace)
    res.namespace = ns
    objects = [o for o in objects if _ns_of(o) in (ns, None)]
    by_kind = _by_kind(objects)
    configmaps = {_name(o): {str(k): _str(v) for k, v in (o.get("data") or {}).items()} for o in by_kind["ConfigMap"]}
    secrets = {_name(o): list(o.get("keys") or ()) for o in by_kind["Secret"]}
    workloads = _workloads(tenant, ns, by_kind, app, configmaps, secrets, res.notes)
    if not workloads:
        raise DevenvError(f"no Deployment or StatefulSet of a devenv.yaml component found in namespace {ns}",
                          f"check the namespace; devenv.yaml components: {', '.join(app.components)}")
    digests = _pod_digests(by_kind["Pod"], workloads)
    doc: dict[str, Any] = {"tenant": tenant, "namespace": ns}
    doc["labels"] = _namespace_labels(by_kind["Namespace"], ns)
    doc["node_selector"] = _node_selector(workloads, res.notes)
    env, features, comp_env = _split_env(tenant, workloads, app)
    doc["components"] = _components(workloads, app, comp_env, digests, res.notes)
    doc["env"] = env
    doc["features"] = features
    doc["secrets"] = _secrets(workloads)
    doc["domains"] = _domains(by_kind["Ingress"])
    res.profile = {k: v for k, v in doc.items() if v or k in ("tenant", "namespace", "components")}
    res.ports = _ports(by_kind["Service"], workloads, app, res.notes)
    return res


def _str(v: Any) -> str:
    return ("true" if v else "false") if isinstance(v, bool) else ("" if v is None else str(v))


def _name(o: Obj) -> str:
    return str((o.get("metadata") or {}).get("name", ""))


def _ns_of(o: Obj) -> str | None:
    if o.get("kind") == "Namespace":
        return _name(o)
    return (o.get("metadata") or {}).get("namespace")


def _labels(o: Obj) -> dict[str, str]:
    return {str(k): _str(v) for k, v in ((o.get("metadata") or {}).get("labels") or {}).items()}


def _by_kind(objects: list[Obj]) -> dict[str, list[Obj]]:
    kinds = ("Deployment", "StatefulSet", "Service", "ConfigMap", "Secret", "Ingress", "Namespace", "Pod")
    out: dict[str, list[Obj]] = {k: [] for k in kinds}
    for o in objects:
        if o.get("kind") in out:
            out[o["kind"]].append(o)
    return out


def _pick_namespace(objects: list[Obj], wanted: str | None) -> str:
    """One namespace per profile: the one asked for, else the only one the dump holds."""
    seen = sorted({n for o in objects if o.get("kind") in WORKLOAD_KINDS and (n := _ns_of(o))})
    if wanted:
        if seen and wanted not in seen:
            raise DevenvError(f"the dump holds no workloads in namespace {wanted}",
                              f"namespaces with workloads: {', '.join(seen)}")
        return wanted
    if len(seen) > 1:
        raise DevenvError(f"the dump holds workloads of several namespaces: {', '.join(seen)}",
                          "pass --namespace NS to pick the tenant's namespace")
    if seen:
        return seen[0]
    names = [_name(o) for o in objects if o.get("kind") == "Namespace"]
    if len(names) == 1:
        return names[0]
    raise DevenvError("cannot tell the tenant's namespace from the dump", "pass --namespace NS")


def _namespace_labels(namespaces: list[Obj], ns: str) -> dict[str, str]:
    """Namespace labels minus Kubernetes' own (``kubernetes.io/metadata.name``,
    ``pod-security.kubernetes.io/*``): those are set by the cluster, not by the tenant."""
    for o in namespaces:
        if _name(o) == ns:
            return dict(sorted((k, v) for k, v in _labels(o).items() if not _is_k8s_noise(k)))
    return {}


def _is_k8s_noise(key: str) -> bool:
    prefix = key.split("/", 1)[0] if "/" in key else ""
    return prefix == "kubernetes.io" or prefix.endswith(".kubernetes.io") or prefix == "k8s.io"


# --------------------------------------------------------------------------- workloads


def _workloads(tenant: str, ns: str, by_kind: dict[str, list[Obj]], app: App,
               configmaps: dict[str, dict[str, str]], secrets: dict[str, list[str]],
               notes: list[str]) -> list[_Workload]:
    """Deployments and StatefulSets matched to devenv.yaml components, in devenv.yaml order."""
    found: dict[str, _Workload] = {}
    for obj in by_kind["Deployment"] + by_kind["StatefulSet"]:
        comp = _component_name(tenant, ns, obj, app, notes)
        if comp is None:
            continue
        if comp in found:
            notes.append(f"{obj['kind']} {_name(obj)} is also component '{comp}' "
                         f"(as {found[comp].obj['kind']} {_name(found[comp].obj)}); kept the first")
            continue
        container = _main_container(comp, obj, notes)
        if container is None:
            continue
        env, secret_env = _container_env(comp, container, configmaps, secrets, notes)
        found[comp] = _Workload(comp, obj, container, env, secret_env)
    return [found[c] for c in app.components if c in found]


def _component_name(tenant: str, ns: str, obj: Obj, app: App, notes: list[str]) -> str | None:
    """``app.kubernetes.io/name``, else ``app.kubernetes.io/component``, else the object's name
    without a tenant prefix; the first candidate that is a devenv.yaml component wins, because
    many charts set ``name`` to the application and ``component`` to the part."""
    labels = {**_labels(obj), **_template_labels(obj)}
    candidates = [labels.get("app.kubernetes.io/name"), labels.get("app.kubernetes.io/component"),
                  _strip_prefix(_name(obj), (ns, f"tenant-{tenant}", tenant))]
    names = [c for c in candidates if c]
    for c in names:
        if c in app.components:
            return c
    guess = get_close_matches(names[-1], list(app.components), n=1) if names else []
    hint = f"; did you mean '{guess[0]}'?" if guess else ""
    notes.append(f"{obj.get('kind')} {_name(obj)}: '{names[-1] if names else '?'}' is not a devenv.yaml component "
                 f"(known: {', '.join(app.components)}){hint}; skipped")
    return None


def _template_labels(obj: Obj) -> dict[str, str]:
    meta = ((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}
    return {str(k): _str(v) for k, v in (meta.get("labels") or {}).items()}


def _strip_prefix(name: str, prefixes: Iterable[str]) -> str:
    for p in prefixes:
        if p and name.startswith(p + "-") and len(name) > len(p) + 1:
            return name[len(p) + 1:]
    return name


def _pod_spec(obj: Obj) -> Obj:
    return (((obj.get("spec") or {}).get("template") or {}).get("spec")) or {}


def _main_container(comp: str, obj: Obj, notes: list[str]) -> Obj | None:
    """The container named like the component, else the first one; sidecars are not imported."""
    containers = _pod_spec(obj).get("containers") or []
    if not containers:
        notes.append(f"{obj.get('kind')} {_name(obj)} has no containers; skipped")
        return None
    main = next((c for c in containers if c.get("name") == comp), containers[0])
    others = [c.get("name", "?") for c in containers if c is not main]
    if others:
        notes.append(f"{comp}: imported container '{main.get('name')}'; sidecar(s) {', '.join(others)} not imported")
    return main  # type: ignore[no-any-return]


def _container_env(comp: str, container: Obj, configmaps: dict[str, dict[str, str]],
                   secrets: dict[str, list[str]], notes: list[str]) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """The container's environment as Kubernetes builds it: ``envFrom`` in order, then ``env``
    on top. Plain values and ConfigMap data become values; Secret references stay references."""
    values: dict[str, str] = {}
    refs: dict[str, tuple[str, str]] = {}

    def put_value(k: str, v: str) -> None:
        refs.pop(k, None)
        values[k] = v

    def put_ref(k: str, secret: str, key: str) -> None:
        values.pop(k, None)
        refs[k] = (secret, key)

    for src in container.get("envFrom") or []:
        prefix = str(src.get("prefix") or "")
        if "configMapRef" in src:
            cm = str(src["configMapRef"].get("name", ""))
            if cm not in configmaps:
                notes.append(f"{comp}: envFrom ConfigMap {cm} is not in the dump; its variables are missing")
            for k, v in sorted(configmaps.get(cm, {}).items()):
                put_value(prefix + k, v)
        elif "secretRef" in src:
            sec = str(src["secretRef"].get("name", ""))
            if sec not in secrets:
                notes.append(f"{comp}: envFrom Secret {sec} is not in the dump, so its keys are unknown; "
                             "add them to the profile's secrets by hand")
            for key in secrets.get(sec, []):
                put_ref(prefix + key, sec, key)
    for item in container.get("env") or []:
        _env_item(comp, item, configmaps, notes, put_value, put_ref)
    for k in [k for k, v in values.items() if _SECRETISH.search(k) and v]:
        del values[k]
        notes.append(f"{comp}: env {k} has an inline value that looks like a credential; not imported "
                     "(production should keep it in a Secret; locally set it in devenv.personal.yaml)")
    return values, refs


def _env_item(comp: str, item: Obj, configmaps: dict[str, dict[str, str]], notes: list[str],
              put_value: Any, put_ref: Any) -> None:
    name = str(item.get("name", ""))
    if "value" in item or "valueFrom" not in item:
        put_value(name, _str(item.get("value")))
        return
    vf = item.get("valueFrom") or {}
    if "secretKeyRef" in vf:
        put_ref(name, str(vf["secretKeyRef"].get("name", "")), str(vf["secretKeyRef"].get("key", "")))
    elif "configMapKeyRef" in vf:
        cm, key = str(vf["configMapKeyRef"].get("name", "")), str(vf["configMapKeyRef"].get("key", ""))
        if key in configmaps.get(cm, {}):
            put_value(name, configmaps[cm][key])
        else:
            notes.append(f"{comp}: env {name} reads ConfigMap {cm} key {key}, which is not in the dump; not imported")
    else:
        kind = next(iter(vf), "valueFrom")
        notes.append(f"{comp}: env {name} comes from {kind} (known only at run time); not imported")


def _node_selector(workloads: list[_Workload], notes: list[str]) -> dict[str, str]:
    """The Deployments' common node selector (StatefulSets only when there is no Deployment): a
    profile holds one per tenant, so per-component differences are reported, not kept."""
    pool = [w for w in workloads if w.obj.get("kind") == "Deployment"] or workloads
    selectors = {w.component: {str(k): _str(v) for k, v in (_pod_spec(w.obj).get("nodeSelector") or {}).items()}
                 for w in workloads}
    common: dict[str, str] | None = None
    for w in pool:
        sel = selectors[w.component]
        common = dict(sel) if common is None else {k: v for k, v in common.items() if sel.get(k) == v}
    common = dict(sorted((common or {}).items()))
    for comp, sel in selectors.items():
        if sel != common:
            notes.append(f"{comp}: node selector {_fmt_map(sel)} differs from the tenant's common one "
                         f"{_fmt_map(common)}; the profile keeps the common one")
    return common


def _fmt_map(d: dict[str, str]) -> str:
    return "{" + ", ".join(f"{k}={v}" for k, v in sorted(d.items())) + "}"


# --------------------------------------------------------------------------- env, features, components


def _split_env(tenant: str, workloads: list[_Workload], app: App
               ) -> tuple[dict[str, str], dict[str, bool], dict[str, dict[str, str]]]:
    """Tenant env (same value in every app component), feature flags (common ``FEATURE_X`` with a
    boolean value) and what stays per component. Values devenv.yaml already gives are left out,
    so the profile says only what is the tenant's own."""
    apps = [w for w in workloads if app.components[w.component].role == "app"]
    common: dict[str, str] = {}
    if apps:
        first = apps[0].env
        common = {k: v for k, v in first.items() if all(w.env.get(k) == v for w in apps[1:])}
    features: dict[str, bool] = {}
    env: dict[str, str] = {}
    for k, v in sorted(common.items()):
        flag = _feature(k, v)
        if flag is not None:
            features[flag[0]] = flag[1]
        elif not _is_default(k, v, tenant, [app.components[w.component] for w in apps]):
            env[k] = v
    comp_env: dict[str, dict[str, str]] = {}
    for w in workloads:
        comp = app.components[w.component]
        own = {k: v for k, v in w.env.items() if not (comp.role == "app" and k in common)}
        comp_env[w.component] = {k: v for k, v in sorted(own.items()) if not _is_default(k, v, tenant, [comp])}
    return env, features, comp_env


def _feature(key: str, value: str) -> tuple[str, bool] | None:
    if not key.startswith("FEATURE_") or len(key) == len("FEATURE_"):
        return None
    low = value.strip().lower()
    if low not in _TRUE | _FALSE:
        return None
    return key[len("FEATURE_"):].lower(), low in _TRUE


def _is_default(key: str, value: str, tenant: str, comps: list[Component]) -> bool:
    if key == "TENANT" and value == tenant:
        return True
    return bool(comps) and all(c.env.get(key) == value for c in comps)


def _components(workloads: list[_Workload], app: App, comp_env: dict[str, dict[str, str]],
                digests: dict[str, str], notes: list[str]) -> dict[str, Any]:
    """One entry per devenv.yaml component, in its order. An app component the namespace does not
    run is ``enabled: false``; a backing service it does not run is left out (production may run
    it outside the cluster, and locally the app still needs it)."""
    by_name = {w.component: w for w in workloads}
    out: dict[str, Any] = {}
    for name, comp in app.components.items():
        w = by_name.get(name)
        if w is None:
            if comp.role == "app":
                out[name] = {"enabled": False}
                notes.append(f"{name}: not running in the namespace; imported as enabled: false")
            else:
                notes.append(f"{name}: backing service not running in the namespace (managed outside the "
                             "cluster?); left out, so local runs devenv.yaml's own")
            continue
        out[name] = _component_doc(w, comp_env[name], digests.get(name), notes)
    return out


def _component_doc(w: _Workload, env: dict[str, str], digest: str | None, notes: list[str]) -> dict[str, Any]:
    spec = w.obj.get("spec") or {}
    doc: dict[str, Any] = {"replicas": int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)}
    image = str(w.container.get("image", ""))
    if digest and "@" not in image:
        image = f"{image}@{digest}"
        notes.append(f"{w.component}: image pinned to the digest the running pods use ({digest[:19]}...)")
    if image:
        doc["image"] = image
    resources = _resources(w.container.get("resources") or {})
    if resources:
        doc["resources"] = resources
    if env:
        doc["env"] = env
    return doc


def _resources(r: Obj) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for part in ("requests", "limits"):
        vals = {str(k): _str(v) for k, v in sorted((r.get(part) or {}).items())}
        if vals:
            out[part] = vals
    return out


def _pod_digests(pods: list[Obj], workloads: list[_Workload]) -> dict[str, str]:
    """``sha256:...`` per component, when the dump holds its pods and they all agree (a rollout
    in progress has two, and then no digest is better than a wrong one)."""
    out: dict[str, str] = {}
    for w in workloads:
        match = ((w.obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        found: set[str] = set()
        for pod in pods:
            if match and all(_labels(pod).get(k) == _str(v) for k, v in match.items()):
                found |= _image_digests(pod, str(w.container.get("name", "")))
        if len(found) == 1:
            out[w.component] = found.pop()
    return out


def _image_digests(pod: Obj, container: str) -> set[str]:
    out: set[str] = set()
    for st in (pod.get("status") or {}).get("containerStatuses") or []:
        image_id = str(st.get("imageID") or "")
        if st.get("name") == container and "@sha256:" in image_id:
            out.add(image_id.rsplit("@", 1)[1])
    return out


def _secrets(workloads: list[_Workload]) -> list[Any]:
    """Secret references of every component, by env var; names and keys only."""
    seen: dict[tuple[str, str, str], None] = {}
    for w in workloads:
        for env_name, (secret, key) in sorted(w.secret_env.items()):
            seen[(secret, key, env_name)] = None
    return [{"name": s, "key": k, "env": e} for s, k, e in sorted(seen, key=lambda t: (t[2], t[0], t[1]))]


def _domains(ingresses: list[Obj]) -> list[str]:
    hosts: dict[str, None] = {}
    for ing in sorted(ingresses, key=_name):
        spec = ing.get("spec") or {}
        for rule in spec.get("rules") or []:
            if rule.get("host"):
                hosts[str(rule["host"])] = None
        for tls in spec.get("tls") or []:
            for h in tls.get("hosts") or []:
                hosts[str(h)] = None
    return list(hosts)


def _ports(services: list[Obj], workloads: list[_Workload], app: App, notes: list[str]) -> dict[str, list[str]]:
    """Service ports by component (a Service belongs to the workload its selector picks). A
    target port devenv.yaml does not declare for the component is reported: locally it would not
    be reachable."""
    out: dict[str, list[str]] = {}
    for svc in sorted(services, key=_name):
        sel = {str(k): _str(v) for k, v in ((svc.get("spec") or {}).get("selector") or {}).items()}
        owner = next((w for w in workloads if sel and all(_template_labels(w.obj).get(k) == v for k, v in sel.items())),
                     None)
        if owner is None:
            continue
        declared = {p.container for p in app.components[owner.component].ports}
        named = {str(p.get("name")): p.get("containerPort") for p in owner.container.get("ports") or []}
        for p in (svc.get("spec") or {}).get("ports") or []:
            target = p.get("targetPort", p.get("port"))
            target = named.get(str(target), target)
            out.setdefault(owner.component, []).append(
                f"service {_name(svc)} {p.get('port')}->{target}/{p.get('protocol', 'TCP')}")
            if isinstance(target, int) and target not in declared:
                notes.append(f"{owner.component}: Service {_name(svc)} targets port {target}, which devenv.yaml "
                             f"does not declare for it (declared: {sorted(declared) or 'none'})")
    return out


# --------------------------------------------------------------------------- writing YAML


class _Flow(dict):  # type: ignore[type-arg]
    """A mapping written on one line (``{name: x, key: y, env: Z}``), as the sample profiles do."""


class _Dumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


_Dumper.add_representer(_Flow, lambda d, v: d.represent_mapping("tag:yaml.org,2002:map", dict(v), flow_style=True))


def profile_yaml(profile: dict[str, Any], header: str = "") -> str:
    """Readable, byte-stable YAML: keys in the order built, block style, one-line small maps."""
    body = yaml.dump(_styled(profile), Dumper=_Dumper, sort_keys=False, default_flow_style=False,
                     allow_unicode=True, width=4096, indent=2)
    lines = [f"# {h}".rstrip() for h in header.splitlines()] if header else []
    return "\n".join(lines) + ("\n" if lines else "") + body


def _styled(profile: dict[str, Any]) -> dict[str, Any]:
    """A copy with the small maps (secret refs, requests, limits) marked for one-line style; the
    data stays plain dicts for callers of ``profile_from_objects``."""
    out = dict(profile)
    out["components"] = {
        name: {**c, "resources": {k: _Flow(v) for k, v in c["resources"].items()}} if "resources" in c else c
        for name, c in (profile.get("components") or {}).items()
    }
    if "secrets" in profile:
        out["secrets"] = [_Flow(s) for s in profile["secrets"]]
    return {k: out[k] for k in profile}


def strip_header(text: str) -> str:
    """The file without its leading comment lines: a re-import that only moves the timestamp is
    not a change."""
    lines = text.splitlines(keepends=True)
    i = 0
    while i < len(lines) and lines[i].lstrip().startswith("#"):
        i += 1
    return "".join(lines[i:])


def header_for(tenant: str, source: str, when: str) -> str:
    return (f"Tenant profile for {tenant}, imported by `devenv import` on {when}\n"
            f"from {source}.\n"
            "Secret values were never read: only secret names and keys are kept.")


def check_tenant_name(tenant: str) -> None:
    """The tenant names a file under profiles/, so it must be a plain name."""
    if not _TENANT_NAME.match(tenant):
        raise DevenvError(f"'{tenant}' is not a valid tenant name",
                          "use lowercase letters, digits, '-' and '_' (it names profiles/<tenant>.yaml)")


# --------------------------------------------------------------------------- I/O


def live_argv(context: str, namespace: str) -> list[list[str]]:
    """The kubectl calls of a live import: all read-only ``get``. Secrets are listed through a
    template that prints names and keys only, so their values never leave the cluster."""
    base = ["kubectl", "--context", context]
    keys_only = "{{range .items}}" + SECRET_KEYS_ITEM + "{{end}}"
    return [
        [*base, "-n", namespace, "get", "deploy,statefulset,svc,configmap,ingress", "-o", "yaml"],
        [*base, "-n", namespace, "get", "secret", "-o", f"go-template={keys_only}"],
        [*base, "get", "ns", namespace, "-o", "yaml"],
        [*base, "-n", namespace, "get", "pod", "-o", "yaml"],
    ]


def fetch_live(runner: Runner, context: str, namespace: str) -> tuple[list[Obj], list[str]]:
    """The namespace's objects, read with kubectl. Pods only add digests, so failing to list them
    (RBAC) is a note, not an error."""
    workloads_cmd, secrets_cmd, ns_cmd, pods_cmd = live_argv(context, namespace)
    notes: list[str] = []
    objects = parse_dump(runner.run(workloads_cmd, timeout=120).stdout, "kubectl's output")
    objects += secrets_from_keys_listing(runner.run(secrets_cmd, timeout=120).stdout, namespace)
    objects += parse_dump(runner.run(ns_cmd, timeout=60).stdout, "kubectl's output")
    pods = runner.run(pods_cmd, check=False, timeout=120)
    if pods.code == 0:
        objects += parse_dump(pods.stdout, "kubectl's output")
    else:
        notes.append("could not list pods, so images are pinned as written (no digests from running pods)")
    return objects, notes


def read_dump_file(path: Path) -> list[Obj]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DevenvError(f"cannot read {path}: {exc}", "pass the file `kubectl get ... -o yaml` wrote") from None
    return parse_dump(text, str(path))


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file and a rename, so a reader never sees half a profile."""
    atomic_write(path, text)
