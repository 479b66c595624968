"""Range and shape checks that Kubernetes, Compose and the engine apply, applied at ``validate``.

A value the JSON Schema's types accept can still be refused much later, far from the file that
holds it: replicas beyond int32 (the API server), ``1.5.5Gi`` (Kubernetes' quantity grammar), a
label value or host name label over 63 characters, an image tag over 128, a NUL byte in an env
value (the kernel ends the string there), a secret's env var that silently replaces a plain one.
Each check here names the file, the line and the key, like every other validation problem.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from devenv.errors import Problem
from devenv.model.yamlpos import Document, KeyPath, Positions

INT32_MAX = 2**31 - 1
# Kubernetes' resource.Quantity: <signedNumber><suffix>, suffix binary (Ki..Ei), decimal (n u m k M
# G T P E) or an exponent (e3, E-2).
QUANTITY = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$")
DNS_LABEL_MAX = 63
DNS_SUBDOMAIN_MAX = 253
TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
# maps of the user's own keys (env vars, build args, labels...): a key there named ``image`` or
# ``replicas`` is theirs, not devenv's field; ``components.env`` is a component named env
FREE_FORM = frozenset({"env", "args", "labels", "node_selector", "features", "annotations"})
NAMED = frozenset({"components", "services", "images", "tenants"})
# the registry's reference grammar (distribution/reference): [host[:port]/]path[:tag][@digest], each
# path part lower-case alphanumerics joined by '.', '_', '__' or dashes; the first part is a host only
# when it holds a '.' or a ':' or is localhost (Docker's own split)
HOST = re.compile(r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
                  r"|\[[0-9A-Fa-f:]+\])(?::[0-9]+)?$")
REMOTE = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
                    r"(?::[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?"
                    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$")
# what the schemas' ``ref``/``image`` pattern takes: a value it refuses is the schema's to report
SCHEMA_REF = re.compile(r"^[a-z0-9][a-z0-9._/:-]*(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(@sha256:[a-f0-9]{64})?$")

Problems = Iterator[Problem]


def is_reference(ref: str) -> bool:
    """Docker would take ``ref`` as an image reference."""
    first, slash, rest = ref.partition("/")
    if slash and (first == "localhost" or any(c in first for c in ".:[")):
        return bool(HOST.match(first)) and bool(REMOTE.match(rest))
    return bool(REMOTE.match(ref))


def walk(data: Any, path: KeyPath = ()) -> Iterator[tuple[KeyPath, Any]]:
    """Every (path, value) of a document, depth first."""
    yield path, data
    if isinstance(data, dict):
        for k, v in data.items():
            yield from walk(v, path + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            yield from walk(v, path + (i,))


def check_document(doc: Document, kind: str) -> Problems:
    """Every range and shape problem of one document (``kind``: app, profile or overlay)."""
    pos = doc.positions
    for path, value in walk(doc.data):
        yield from _nul(pos, path, value)
        if _free_form(path):
            continue
        yield from _replicas(pos, path, value)
        yield from _quantity(pos, path, value)
        if kind == "profile":
            yield from _profile_shapes(pos, path, value)
        if path[-1:] in (("ref",), ("image",)) and kind != "overlay" and isinstance(value, str):
            yield from _image_ref(pos, path, value)
    if kind == "profile" and isinstance(doc.data, dict):
        yield from _shadowing(pos, doc.data)


def _free_form(path: KeyPath) -> bool:
    """``path`` lies inside a map of the user's own keys (an env var named ``replicas``)."""
    return any(k in FREE_FORM and (i == 0 or path[i - 1] not in NAMED) for i, k in enumerate(path[:-1]))


def _nul(pos: Positions, path: KeyPath, value: Any) -> Problems:
    if isinstance(value, str) and "\x00" in value:
        yield pos.problem(path, "the value holds a NUL byte (\\0): a process's environment and argv end there",
                          "remove the NUL byte (an escaped \"\\0\" in double quotes writes one)")


def _replicas(pos: Positions, path: KeyPath, value: Any) -> Problems:
    """``replicas: N`` in a profile, ``replicas: {web: N}`` in an overlay."""
    if isinstance(value, bool) or not isinstance(value, int):
        return
    if "replicas" in path[-2:] and not 0 <= value <= INT32_MAX:
        yield pos.problem(path, f"replicas {value} is out of range: Kubernetes takes 0 to {INT32_MAX} (int32)",
                          "use a realistic replica count")


def _quantity(pos: Positions, path: KeyPath, value: Any) -> Problems:
    if len(path) < 3 or path[-3] != "resources" or path[-2] not in ("requests", "limits"):
        return
    if isinstance(value, bool) or value is None or not isinstance(value, int | float | str):
        yield pos.problem(path, f"{value!r} is not a resource quantity", "write e.g. 250m, 0.5, 512Mi or 1Gi")
        return
    text = str(value)
    if not QUANTITY.match(text):
        yield pos.problem(path, f"'{text}' is not a Kubernetes quantity (a number with an optional suffix: "
                          "m, k, M, G, Ki, Mi, Gi, ... or an exponent)", "write e.g. 250m, 0.5, 512Mi or 1Gi")
    elif text.startswith("-"):
        yield pos.problem(path, f"'{text}' is negative", "resources are zero or more")


def _image_ref(pos: Positions, path: KeyPath, ref: str) -> Problems:
    found = list(_ref_parts(pos, path, ref))
    yield from found
    if not found and SCHEMA_REF.match(ref) and not is_reference(ref):
        yield pos.problem(path, f"'{ref[:80]}' is not an image reference Docker takes (invalid reference format)",
                          "write [registry[:port]/]path[:tag][@sha256:digest], path parts in lower case, "
                          "e.g. registry.example.com/shop/web:1.4")


def _ref_parts(pos: Positions, path: KeyPath, ref: str) -> Problems:
    name = ref.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        tag = last.split(":", 1)[1]
        if len(tag) > 128:
            yield pos.problem(path, f"the image tag is {len(tag)} characters long; the registry format allows 128",
                              "use a shorter tag (or pin by @sha256: digest)")
        elif not TAG.match(tag):
            yield pos.problem(path, f"'{tag}' is not a valid image tag (letters, digits, '_', '.', '-'; "
                              "not starting with '.' or '-')", "fix the tag")
    if len(name) > 255:
        yield pos.problem(path, f"the image name is {len(name)} characters long; the registry format allows 255",
                          "use a shorter image name")


def _profile_shapes(pos: Positions, path: KeyPath, value: Any) -> Problems:
    """Label keys and values are the schema's; host names are checked here."""
    if path[:1] == ("domains",) and len(path) == 2 and isinstance(value, str):
        yield from _domain(pos, path, value)


def _domain(pos: Positions, path: KeyPath, host: str) -> Problems:
    bad = [part for part in host.split(".") if len(part) > DNS_LABEL_MAX]
    if len(host) > DNS_SUBDOMAIN_MAX or bad:
        yield pos.problem(path, f"the host name '{host[:70]}...' is too long (at most 253 characters, "
                          "63 per dot-separated part)", "shorten the host name")


def _plain_env_names(data: dict[str, Any], comp: str | None) -> set[str]:
    names = set(data.get("env") or {}) if isinstance(data.get("env"), dict) else set()
    comps = data["components"] if isinstance(data.get("components"), dict) else {}
    scope = [comps.get(comp)] if comp is not None else list(comps.values())  # tenant secrets reach every one
    for c in scope:
        if isinstance(c, dict) and isinstance(c.get("env"), dict):
            names |= set(c["env"])
    return names


def _secret_entries(data: dict[str, Any]) -> Iterator[tuple[KeyPath, str | None, Any]]:
    for i, s in enumerate(data.get("secrets") or [] if isinstance(data.get("secrets"), list) else []):
        yield ("secrets", i, "env"), None, s
    comps = data.get("components") if isinstance(data.get("components"), dict) else {}
    for name, c in (comps or {}).items():
        secrets = c.get("secrets") if isinstance(c, dict) else None
        for i, s in enumerate(secrets if isinstance(secrets, list) else []):
            yield ("components", name, "secrets", i, "env"), name, s


def _shadowing(pos: Positions, data: dict[str, Any]) -> Problems:
    """A secret's env var that a plain env entry of the same scope also sets: one of the two values
    silently wins (and which one differs between compose and Kubernetes)."""
    for path, comp, entry in _secret_entries(data):
        env = entry.get("env") if isinstance(entry, dict) else None
        if isinstance(env, str) and env in _plain_env_names(data, comp):
            yield pos.problem(path, f"secret env '{env}' shadows the plain env '{env}' of the same profile",
                              f"rename one of them, or drop '{env}' from env: a variable holds one value")
