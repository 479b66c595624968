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

import functools
import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Any

import yaml

from devenv.errors import DevenvError
from devenv.fsutil import atomic_write
from devenv.model.dumpyaml import gc_paused, load_stream, read_list_split, read_text_bounded
from devenv.model.k8sshape import check_object
from devenv.model.types import App, Component
from devenv.proc import Runner

Obj = dict[str, Any]

WORKLOAD_KINDS = ("Deployment", "StatefulSet")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
# Env var names whose *inline* values are almost surely credentials; they are never imported.
_SECRETISH = re.compile(r"(PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIALS?|"
                        r"ACCESS_?KEY|AUTH_?KEY|(^|_)PASS($|_)|(^|_)PWD($|_)|(^|_)DSN($|_))", re.IGNORECASE)
# Values that are credentials whatever their name: well-known key formats, a URL with a password.
_KNOWN_KEYS = re.compile(r"^(sk|rk|pk)_(live|test)_|^gh[pousr]_[A-Za-z0-9]{20,}|^github_pat_|^AKIA[0-9A-Z]{16}$|"
                         r"^xox[abposr]-|^glpat-|^AIza[0-9A-Za-z_-]{30,}|^eyJ[A-Za-z0-9_-]{8,}\.eyJ|-----BEGIN ")
_URL_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@:\s]*:[^/@\s]+@", re.IGNORECASE)
# What the kubelet accepts as an env var name; a profile holds only shell-style names.
_KUBELET_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_PROFILE_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}
_TENANT_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
TENANT_MAX = 63  # a DNS label: the validator refuses a longer profile name
# Per Secret: its name and key names on one line. Go's template `range` over `.data` yields the
# keys; the values are bound to $v and never printed.
SECRET_KEYS_ITEM = '{{.metadata.name}}{{range $k, $v := .data}} {{$k}}{{end}}{{"\\n"}}'


# --------------------------------------------------------------------------- credentials by shape


def credential_reason(name: str, value: str) -> str | None:
    """Why an inline env value is a credential, or ``None``: by its name, by a well-known key
    format, by a password inside a URL, or by its shape (long, no spaces, mixed character classes
    and high entropy, as generated keys and passwords are; hostnames, paths, versions and prose
    are not)."""
    if not value:
        return None
    if _SECRETISH.search(name):
        return "its name says it is a credential"
    if _KNOWN_KEYS.search(value):
        return "it has the format of a well-known access key"
    if _URL_PASSWORD.search(value):
        return "it is a URL with a password in it"
    if _random_looking(value):
        return "its value looks generated (long, high entropy)"
    return None


def _random_looking(value: str) -> bool:
    """Generated keys have a long alphanumeric run with digits and letters (or both cases) mixed
    at high entropy; typed passwords mix all four character classes with digits inside words.
    Image digests, hostnames, paths, versions and identifiers have neither."""
    if len(value) < 12 or any(c.isspace() for c in value) or value.startswith(("/", "./")):
        return False
    if "://" in value or re.search(r"@sha256:[0-9a-f]{64}$", value):
        return False
    run = max(re.findall(r"[A-Za-z0-9]+", value) or [""], key=len)
    digits, lower, upper = (bool(re.search(p, run)) for p in ("[0-9]", "[a-z]", "[A-Z]"))
    if len(run) >= 16 and ((digits and (lower or upper) and _entropy(run) >= 3.5)
                           or (lower and upper and _entropy(run) >= 3.9)):
        return True
    if re.fullmatch(r"[A-Za-z0-9+/=_-]{20,}", value) and re.search("[0-9]", value) and _entropy(value) >= 4.0:
        return True  # base64 keys carry '/' and '+'
    if "/" in value or len(value) > 64:
        return False
    classes = [bool(re.search(p, value)) for p in ("[a-z]", "[A-Z]", "[0-9]", "[^A-Za-z0-9]")]
    return all(classes) and bool(re.search(r"[A-Za-z][0-9]+[A-Za-z]", value))


def _entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts: dict[str, int] = {}
    for c in value:
        counts[c] = counts.get(c, 0) + 1
    n = len(value)
    return -sum(k / n * math.log2(k / n) for k in counts.values())


# --------------------------------------------------------------------------- parsing the dump


def parse_dump(text: str, source: str = "the dump", positions: bool = True) -> list[Obj]:
    """Objects of a ``kubectl get -o yaml`` dump (a ``v1 List``) or of multi-document YAML
    (``helm template``, ``kubectl kustomize``), read with limits (``dumpyaml``), type-checked with
    the dump's line (``k8sshape``), and with every Secret reduced to its name, type and key names
    before anything else sees it. Without ``positions`` (import: big dumps, only a type error needs
    a line) the objects are plain data, read faster, and the text is read again with positions
    only when a check fails; JSON is always read that way."""
    with gc_paused():
        fast = _json_documents(text)
        if fast is None and not positions:
            ready = read_list_split(text, source, functools.partial(_ready, source=source))
            if ready is not None:
                return ready
            fast = load_stream(text, source, positions=False)
        objects = list(_flatten(fast if fast is not None else load_stream(text, source)))
        try:
            for obj in objects:
                check_object(obj, source)
        except DevenvError:
            if fast is None:
                raise
            for obj in _flatten(load_stream(text, source)):  # again with positions, for the line
                check_object(obj, source)
            raise
        return [sanitize(o) for o in objects]


def _ready(item: Any, source: str) -> list[Obj]:
    """One item of a dump's ``List``, as ``parse_dump`` returns it: opened, checked, sanitised
    (each piece of a big dump does this in its own process; a check that fails is read again with
    positions for its line)."""
    objects = list(_flatten([item]))
    for obj in objects:
        check_object(obj, source)
    return [sanitize(o) for o in objects]


def _json_documents(text: str) -> list[Any] | None:
    """``kubectl get -o json`` output through the C JSON parser (~50x the YAML path); ``None``
    when the text is not one JSON value, so the YAML reader (which also reads JSON) answers with
    positions. Lines are only needed for errors: a type error is looked up again with them."""
    if text.lstrip()[:1] not in ("{", "["):
        return None
    try:
        return [json.loads(text)]
    except (ValueError, RecursionError):
        return None


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


# Kinds of notes: a dump of 20k objects alike says each kind a few times, then how many more.
DUPLICATE = "workloads that are a component already imported"
UNKNOWN_WORKLOAD = "workloads that are no devenv.yaml component"
NO_CONTAINERS = "workloads without containers"
SIDECARS = "sidecars not imported"
MISSING_CONFIGMAP = "envFrom ConfigMaps not in the dump"
MISSING_SECRET = "envFrom Secrets not in the dump"
INLINE_CREDENTIAL = "inline credentials not imported"
KUBELET_SKIPS = "env names the kubelet skips"
NOT_SHELL_NAME = "env names that are not shell names"
MISSING_CONFIGMAP_KEY = "ConfigMap keys not in the dump"
RUNTIME_VALUE = "env values known only at run time"
NOT_RUNNING = "components not running"
SERVICE_NOT_RUNNING = "backing services not running"
PINNED = "images pinned to digests"
UNDECLARED_PORT = "Service ports devenv.yaml does not declare"
PROBE_CREDENTIAL = "probes with inline credentials not imported"
NOTES_PER_KIND = 5  # shown of each kind before "... and N more like this"


class Notes(list[str]):
    """Notes (plain strings, in order) that remember each one's kind, for ``summarized``."""

    def __init__(self) -> None:
        super().__init__()
        self.kinds: dict[int, str] = {}

    def add(self, kind: str, text: str) -> None:
        self.kinds[len(self)] = kind
        self.append(text)


def _note(notes: list[str], kind: str, text: str) -> None:
    if isinstance(notes, Notes):
        notes.add(kind, text)
    else:
        notes.append(text)


def summarized(notes: list[str], per_kind: int = NOTES_PER_KIND) -> list[str]:
    """Every distinct note in order, except that past ``per_kind`` notes of one kind the rest are
    counted in one line where the next would have been. Exact repeats are said once; a kind with
    one note more than the limit is shown whole (a summary line would save nothing)."""
    kinds = notes.kinds if isinstance(notes, Notes) else {}
    distinct = list(dict.fromkeys((kinds.get(i, text), text) for i, text in enumerate(notes)))
    totals = Counter(kind for kind, _ in distinct)
    seen: Counter[str] = Counter()
    out: list[str] = []
    for kind, text in distinct:
        seen[kind] += 1
        if totals[kind] <= per_kind + 1 or seen[kind] <= per_kind:
            out.append(text)
        elif seen[kind] == per_kind + 1:
            out.append(f"... and {totals[kind] - per_kind} more like this ({kind})")
    return out


@dataclass
class ImportResult:
    """The profile document plus everything the user should know about how it was made."""

    profile: dict[str, Any]
    notes: list[str] = field(default_factory=Notes)  # choices made and things left out
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
    doc["node_selector"] = _node_selector(workloads)
    env, features, comp_env = _split_env(tenant, workloads, app)
    shared = _shared_secrets(workloads, app)
    doc["components"] = _components(workloads, app, comp_env, digests, res.notes,
                                    (doc["node_selector"], shared))
    doc["env"] = env
    doc["features"] = features
    doc["secrets"] = _secret_docs({k: v for w in workloads for k, v in w.secret_env.items() if (k, v) in shared})
    doc["domains"] = _domains(by_kind["Ingress"])
    res.profile = {k: v for k, v in doc.items() if v or k in ("tenant", "namespace", "components")}
    res.ports = _ports(by_kind["Service"], workloads, app, res.notes)
    res.notes = summarized(res.notes)
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
            _note(notes, DUPLICATE, f"{obj['kind']} {_name(obj)} is also component '{comp}' "
                                    f"(as {found[comp].obj['kind']} {_name(found[comp].obj)}); kept the first")
            continue
        container = main_container(comp, obj, notes)
        if container is None:
            continue
        env, secret_env = container_env(comp, container, configmaps, secrets, notes)
        found[comp] = _Workload(comp, obj, container, env, secret_env)
    return [found[c] for c in app.components if c in found]


def _component_name(tenant: str, ns: str, obj: Obj, app: App, notes: list[str]) -> str | None:
    """The first of ``name_candidates`` that is a devenv.yaml component."""
    names = name_candidates(obj, (ns, f"tenant-{tenant}", tenant))
    for c in names:
        if c in app.components:
            return c
    shown = names[-2] if len(names) > 1 else (names[-1] if names else "?")  # without its prefix
    guess = next((g for n in names for g in get_close_matches(n, list(app.components), n=1)), None)
    hint = f"; did you mean '{guess}'?" if guess else ""
    _note(notes, UNKNOWN_WORKLOAD, f"{obj.get('kind')} {_name(obj)}: '{shown}' is not a devenv.yaml component "
                                   f"(known: {', '.join(app.components)}){hint}; skipped")
    return None


def name_candidates(obj: Obj, prefixes: Iterable[str] = ()) -> list[str]:
    """What a workload may be called, most specific first: ``app.kubernetes.io/component`` (charts
    set ``name`` to the application and ``component`` to the part), ``app.kubernetes.io/name``,
    then the object's name without its Helm release (``app.kubernetes.io/instance``) or tenant
    prefix. ``init --from-k8s`` names components by the same list, so later imports find them."""
    labels = {**_labels(obj), **_template_labels(obj)}
    release = labels.get("app.kubernetes.io/instance", "")
    part = labels.get("app.kubernetes.io/component")
    names = [None if part in _ROLE_WORDS else part, labels.get("app.kubernetes.io/name"),
             _strip_prefix(_name(obj), (release, *prefixes)), _name(obj)]
    return list(dict.fromkeys(n for n in names if n))


# Component labels that name a replica's role, not the part of the app (bitnami's postgresql is
# ``component: primary``): the name label says more.
_ROLE_WORDS = {"primary", "master", "replica", "secondary", "slave", "leader", "follower", "server", "main",
               "node", "default", "app", "application", "controller", "standalone"}


def _template_labels(obj: Obj) -> dict[str, str]:
    meta = ((obj.get("spec") or {}).get("template") or {}).get("metadata") or {}
    return {str(k): _str(v) for k, v in (meta.get("labels") or {}).items()}


def _strip_prefix(name: str, prefixes: Iterable[str]) -> str:
    for p in prefixes:
        if p and name.startswith(p + "-") and len(name) > len(p) + 1:
            return name[len(p) + 1:]
    return name


def mappings(value: Any) -> list[Obj]:
    """The mappings of a list field (``containers``, ``env``, ``ports``, ...). The shape check lets
    ``null`` stand for an absent field, so a ``null`` (or scalar) item is skipped, as absent."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _pod_spec(obj: Obj) -> Obj:
    return (((obj.get("spec") or {}).get("template") or {}).get("spec")) or {}


def main_container(comp: str, obj: Obj, notes: list[str]) -> Obj | None:
    """The container named like the component, else the first one; sidecars are not imported."""
    containers = mappings(_pod_spec(obj).get("containers"))
    if not containers:
        _note(notes, NO_CONTAINERS, f"{obj.get('kind')} {_name(obj)} has no containers; skipped")
        return None
    main = next((c for c in containers if c.get("name") == comp), containers[0])
    others = [c.get("name", "?") for c in containers if c is not main]
    if others:
        _note(notes, SIDECARS, f"{comp}: imported container '{main.get('name')}'; sidecar(s) {', '.join(others)} not imported")
    return main


def container_env(comp: str, container: Obj, configmaps: dict[str, dict[str, str]],
                   secrets: dict[str, list[str]], notes: list[str]) -> tuple[dict[str, str], dict[str, tuple[str, str]]]:
    """The container's environment as Kubernetes builds it: ``envFrom`` in order, then ``env``
    on top. Plain values and ConfigMap data become values; Secret references stay references."""
    values: dict[str, str] = {}
    refs: dict[str, tuple[str, str]] = {}

    def put_value(k: str, v: str) -> None:
        if _env_name_ok(comp, k, notes):
            refs.pop(k, None)
            values[k] = v

    def put_ref(k: str, secret: str, key: str) -> None:
        if _env_name_ok(comp, k, notes):
            values.pop(k, None)
            refs[k] = (secret, key)

    for src in mappings(container.get("envFrom")):
        prefix = str(src.get("prefix") or "")
        if "configMapRef" in src:
            cm = _key_ref(src["configMapRef"])[0]
            if cm not in configmaps:
                _note(notes, MISSING_CONFIGMAP, f"{comp}: envFrom ConfigMap {cm} is not in the dump; its variables are missing")
            for k, v in sorted(configmaps.get(cm, {}).items()):
                put_value(prefix + k, v)
        elif "secretRef" in src:
            sec = _key_ref(src["secretRef"])[0]
            if sec not in secrets:
                _note(notes, MISSING_SECRET, f"{comp}: envFrom Secret {sec} is not in the dump, so its keys are unknown; "
                                             "add them to the profile's secrets by hand")
            for key in secrets.get(sec, []):
                put_ref(prefix + key, sec, key)
    for item in mappings(container.get("env")):
        _env_item(comp, item, configmaps, notes, put_value, put_ref)
    drop_credentials(comp, values, notes)
    return values, refs


def drop_credentials(comp: str, values: dict[str, str], notes: list[str]) -> None:
    """Inline credentials never reach a profile or devenv.yaml: dropped, with a note."""
    for k in list(values):
        why = credential_reason(k, values[k])
        if why:
            del values[k]
            _note(notes, INLINE_CREDENTIAL, f"{comp}: env {k} has an inline value that looks like a credential ({why}); not imported "
                                            "(production should keep it in a Secret; locally set it in devenv.personal.yaml)")


def _env_name_ok(comp: str, name: str, notes: list[str]) -> bool:
    """Names the kubelet skips (it reports them as invalid) are skipped here too; names it accepts
    but a shell cannot hold (``tls.crt`` from a Secret's keys) cannot live in a profile either."""
    if _PROFILE_ENV_NAME.match(name):
        return True
    if not _KUBELET_ENV_NAME.match(name):
        _note(notes, KUBELET_SKIPS, f"{comp}: env {name!r} is not a valid variable name; the kubelet skips it, so it is skipped")
    else:
        _note(notes, NOT_SHELL_NAME, f"{comp}: env {name!r} is not a shell variable name (letters, digits, '_'); skipped, "
                                     "as a profile cannot hold it (read it from a mounted file instead)")
    return False


def _env_item(comp: str, item: Obj, configmaps: dict[str, dict[str, str]], notes: list[str],
              put_value: Any, put_ref: Any) -> None:
    name = str(item.get("name", ""))
    if "value" in item or "valueFrom" not in item:
        put_value(name, _str(item.get("value")))
        return
    vf: Obj = item["valueFrom"] if isinstance(item.get("valueFrom"), dict) else {}
    if "secretKeyRef" in vf:
        put_ref(name, *_key_ref(vf["secretKeyRef"]))
    elif "configMapKeyRef" in vf:
        cm, key = _key_ref(vf["configMapKeyRef"])
        if key in configmaps.get(cm, {}):
            put_value(name, configmaps[cm][key])
        else:
            _note(notes, MISSING_CONFIGMAP_KEY, f"{comp}: env {name} reads ConfigMap {cm} key {key}, which is not in the dump; not imported")
    else:
        kind = next(iter(vf), "valueFrom")
        _note(notes, RUNTIME_VALUE, f"{comp}: env {name} comes from {kind} (known only at run time); not imported")


def _key_ref(ref: Any) -> tuple[str, str]:
    """A ``secretKeyRef`` / ``configMapKeyRef``'s name and key (empty when the dump's value is not a
    mapping, as ``secretKeyRef: null``: then nothing matches and the note says so)."""
    ref = ref if isinstance(ref, dict) else {}
    return str(ref.get("name", "")), str(ref.get("key", ""))


def _node_selector(workloads: list[_Workload]) -> dict[str, str]:
    """The node selector every workload shares: the tenant's. What a workload adds is kept on its
    component (``components.<name>.node_selector``), so production's per-workload pools survive."""
    common: dict[str, str] | None = None
    for w in workloads:
        sel = _selector(w)
        common = dict(sel) if common is None else {k: v for k, v in common.items() if sel.get(k) == v}
    return dict(sorted((common or {}).items()))


def _selector(w: _Workload) -> dict[str, str]:
    return {str(k): _str(v) for k, v in (_pod_spec(w.obj).get("nodeSelector") or {}).items()}


def plain(value: Any) -> Any:
    """A copy as plain dicts, lists and scalars (what the YAML writer takes)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def holds_credential(value: Any) -> bool:
    """Whether a probe (any plain value) carries a credential inline: a header whose name or value
    says so, a ``--flag VALUE`` / ``NAME=VALUE`` / query parameter, or a value shaped like a key."""
    if isinstance(value, dict):
        named = isinstance(value.get("name"), str) and isinstance(value.get("value"), str)
        return (named and credential_reason(value["name"].replace("-", "_"), value["value"]) is not None) or any(
            holds_credential(v) for v in value.values())
    if isinstance(value, list):
        return any(holds_credential(v) for v in value)
    words = re.split(r"[\s?&;'\"]+", value) if isinstance(value, str) else []
    for prev, word in zip(["", *words], words, strict=False):
        name, sep, rest = word.lstrip("-").partition("=")
        flag = prev.lstrip("-").replace("-", "_") if prev.startswith("-") and len(prev) > 3 else ""
        if credential_reason(name.replace("-", "_"), rest) if sep else credential_reason(flag, word):
            return True
    return False


def _placement_doc(w: _Workload, common: dict[str, str], notes: list[str] | None = None) -> dict[str, Any]:
    """Per-workload scheduling as production sets it: the node selector beyond the tenant's,
    tolerations and affinity verbatim, production's probes and its service account."""
    pod = _pod_spec(w.obj)
    doc: dict[str, Any] = {}
    own = {k: v for k, v in sorted(_selector(w).items()) if common.get(k) != v}
    if own:
        doc["node_selector"] = own
    if pod.get("tolerations"):
        doc["tolerations"] = [{k: _str(v) if k == "value" else v for k, v in plain(t).items()}
                              for t in pod["tolerations"] if t]
    if pod.get("affinity"):
        doc["affinity"] = plain(pod["affinity"])
    probes = {kind: plain(w.container[f"{kind}Probe"]) for kind in ("readiness", "liveness", "startup")
              if w.container.get(f"{kind}Probe")}
    for kind in [k for k, probe in probes.items() if holds_credential(probe)]:
        del probes[kind]  # the profile is committed: a token in a probe's header or command stays out
        _note(notes if notes is not None else [], PROBE_CREDENTIAL,
              f"{w.component}: production's {kind}Probe holds an inline credential; not imported "
              "(devenv.yaml's health check applies; production should read it from a Secret)")
    if probes:
        doc["probes"] = probes
    account = pod.get("serviceAccountName")
    if account and account != "default":
        doc["service_account"] = str(account)
    return doc


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
                digests: dict[str, str], notes: list[str],
                tenant_wide: tuple[dict[str, str], set[tuple[str, tuple[str, str]]]]) -> dict[str, Any]:
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
                _note(notes, NOT_RUNNING, f"{name}: not running in the namespace; imported as enabled: false")
            else:
                _note(notes, SERVICE_NOT_RUNNING, f"{name}: backing service not running in the namespace (managed outside the "
                                                  "cluster?); left out, so local runs devenv.yaml's own")
            continue
        doc = _component_doc(w, comp_env[name], digests.get(name), notes)
        doc.update(_placement_doc(w, tenant_wide[0], notes))
        own = {k: v for k, v in w.secret_env.items() if comp.role != "app" or (k, v) not in tenant_wide[1]}
        if own:
            doc["secrets"] = _secret_docs(own)
        out[name] = doc
    return out


def _component_doc(w: _Workload, env: dict[str, str], digest: str | None, notes: list[str]) -> dict[str, Any]:
    spec = w.obj.get("spec") or {}
    doc: dict[str, Any] = {"replicas": int(spec.get("replicas", 1) if spec.get("replicas") is not None else 1)}
    image = str(w.container.get("image", ""))
    if digest and "@" not in image:
        image = f"{image}@{digest}"
        _note(notes, PINNED, f"{w.component}: image pinned to the digest the running pods use ({digest[:19]}...)")
    if image:
        doc["image"] = image
    if w.obj.get("kind") == "StatefulSet":
        doc["kind"] = "StatefulSet"
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
    for st in mappings((pod.get("status") or {}).get("containerStatuses")):
        image_id = str(st.get("imageID") or "")
        if st.get("name") == container and "@sha256:" in image_id:
            out.add(image_id.rsplit("@", 1)[1])
    return out


def _shared_secrets(workloads: list[_Workload], app: App) -> set[tuple[str, tuple[str, str]]]:
    """Secret references every app component has (env var -> secret/key): the tenant's
    ``secrets``. The rest, and every backing service's, stay on their component, so a backing
    service gets only its own."""
    apps = [w for w in workloads if app.components[w.component].role == "app"]
    if not apps:
        return set()
    shared = set(apps[0].secret_env.items())
    for w in apps[1:]:
        shared &= set(w.secret_env.items())
    return shared


def _secret_docs(refs: dict[str, tuple[str, str]]) -> list[Any]:
    """Secret references by env var; names and keys only."""
    return [{"name": s, "key": k, "env": e} for e, (s, k) in sorted(refs.items())]


def _domains(ingresses: list[Obj]) -> list[str]:
    hosts: dict[str, None] = {}
    for ing in sorted(ingresses, key=_name):
        spec = ing.get("spec") or {}
        for rule in mappings(spec.get("rules")):
            if rule.get("host"):
                hosts[str(rule["host"])] = None
        for tls in mappings(spec.get("tls")):
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
        named = {str(p.get("name")): p.get("containerPort") for p in mappings(owner.container.get("ports"))}
        for p in mappings((svc.get("spec") or {}).get("ports")):
            target = p.get("targetPort", p.get("port"))
            target = named.get(str(target), target)
            out.setdefault(owner.component, []).append(
                f"service {_name(svc)} {p.get('port')}->{target}/{p.get('protocol', 'TCP')}")
            if isinstance(target, int) and target not in declared:
                _note(notes, UNDECLARED_PORT, f"{owner.component}: Service {_name(svc)} targets port {target}, which devenv.yaml "
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
    out["components"] = {name: _styled_component(c) for name, c in (profile.get("components") or {}).items()}
    if "secrets" in profile:
        out["secrets"] = [_Flow(s) for s in profile["secrets"]]
    return {k: out[k] for k in profile}


def _styled_component(c: dict[str, Any]) -> dict[str, Any]:
    out = dict(c)
    if "resources" in c:
        out["resources"] = {k: _Flow(v) for k, v in c["resources"].items()}
    if "secrets" in c:
        out["secrets"] = [_Flow(s) for s in c["secrets"]]
    return out


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
    if not _TENANT_NAME.match(tenant) or len(tenant) > TENANT_MAX:
        raise DevenvError(f"'{tenant[:TENANT_MAX + 1]}' is not a valid tenant name",
                          f"use at most {TENANT_MAX} lowercase letters, digits, '-' and '_' "
                          "(it names profiles/<tenant>.yaml and the tenant's compose project)")


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
    objects = parse_dump(runner.run(workloads_cmd, timeout=120).stdout, "kubectl's output", positions=False)
    objects += secrets_from_keys_listing(runner.run(secrets_cmd, timeout=120).stdout, namespace)
    objects += parse_dump(runner.run(ns_cmd, timeout=60).stdout, "kubectl's output", positions=False)
    pods = runner.run(pods_cmd, check=False, timeout=120)
    if pods.code == 0:
        objects += parse_dump(pods.stdout, "kubectl's output", positions=False)
    else:
        notes.append("could not list pods, so images are pinned as written (no digests from running pods)")
    return objects, notes


def read_dump_file(path: Path) -> list[Obj]:
    """A saved dump: a regular file under the size cap (a FIFO, a device or a directory is refused
    before reading)."""
    return parse_dump(read_text_bounded(path), str(path), positions=False)


def write_atomic(path: Path, text: str) -> None:
    """Write through a temporary file and a rename, so a reader never sees half a profile."""
    atomic_write(path, text)
