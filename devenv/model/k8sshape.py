"""Type checks for the Kubernetes objects devenv reads (dumps, manifests), with the file's line.

Every field the importer and ``init --from-k8s`` read is declared here once, as a small shape:
``str``/``int``/``bool``, ``SCALAR`` (anything a label or env value may be), ``ANY_MAP``, a dict of
field shapes (other fields are ignored: a dump holds far more than devenv reads), ``[shape]`` for a
list of one shape, ``MapOf(shape)`` for a mapping with free keys. ``None`` counts as absent, as it
does for the API server. Messages never show a value (it may be a Secret's).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devenv.errors import DevenvError
from devenv.model.dumpyaml import line_of


@dataclass(frozen=True)
class MapOf:
    """A mapping with any string keys and values of one shape."""

    value: Any


@dataclass(frozen=True)
class OneOf:
    """A value of any of these scalar types (``targetPort`` is a number or a port name)."""

    types: tuple[type, ...]
    words: str


SCALAR = OneOf((str, int, float, bool), "a plain value (string, number or boolean)")
INT_OR_STR = OneOf((int, str), "a port number or a port name")
ANY_MAP = MapOf(None)

META = {"name": str, "namespace": str, "labels": MapOf(SCALAR), "annotations": MapOf(SCALAR)}
KEY_REF = {"name": str, "key": str}
ENV = {"name": str, "value": SCALAR,
       "valueFrom": {"secretKeyRef": KEY_REF, "configMapKeyRef": KEY_REF, "fieldRef": ANY_MAP,
                     "resourceFieldRef": ANY_MAP}}
ENV_FROM = {"prefix": str, "configMapRef": {"name": str}, "secretRef": {"name": str}}
PROBE = {"httpGet": {"path": str, "port": INT_OR_STR, "scheme": str}, "tcpSocket": {"port": INT_OR_STR},
         "exec": {"command": [str]}, "grpc": {"port": int}, "initialDelaySeconds": int, "periodSeconds": int,
         "timeoutSeconds": int, "failureThreshold": int, "successThreshold": int}
CONTAINER = {
    "name": str, "image": str, "command": [str], "args": [str], "env": [ENV], "envFrom": [ENV_FROM],
    "ports": [{"name": str, "containerPort": int, "protocol": str}],
    "resources": {"requests": MapOf(SCALAR), "limits": MapOf(SCALAR)},
    "readinessProbe": PROBE, "livenessProbe": PROBE, "startupProbe": PROBE,
    "volumeMounts": [{"name": str, "mountPath": str}], "workingDir": str,
}
TOLERATION = {"key": str, "operator": str, "value": SCALAR, "effect": str, "tolerationSeconds": int}
POD_SPEC = {
    "containers": [CONTAINER], "initContainers": [CONTAINER], "nodeSelector": MapOf(SCALAR),
    "tolerations": [TOLERATION], "affinity": ANY_MAP, "serviceAccountName": str,
    "volumes": [{"name": str, "persistentVolumeClaim": {"claimName": str}}],
}
WORKLOAD = {"metadata": META, "spec": {
    "replicas": int, "serviceName": str, "selector": {"matchLabels": MapOf(SCALAR)},
    "template": {"metadata": META, "spec": POD_SPEC},
    "volumeClaimTemplates": [{"metadata": META, "spec": ANY_MAP}],
}}
SHAPES: dict[str, Any] = {
    "Deployment": WORKLOAD,
    "StatefulSet": WORKLOAD,
    "Service": {"metadata": META, "spec": {"type": str, "selector": MapOf(SCALAR), "clusterIP": str, "ports": [
        {"name": str, "port": int, "targetPort": INT_OR_STR, "protocol": str}]}},
    "ConfigMap": {"metadata": META, "data": MapOf(SCALAR)},
    "Secret": {"metadata": META, "type": str, "data": ANY_MAP, "stringData": ANY_MAP, "keys": [SCALAR]},
    "Ingress": {"metadata": META, "spec": {"rules": [{"host": str}], "tls": [{"hosts": [str]}]}},
    "Namespace": {"metadata": META},
    "Pod": {"metadata": META, "status": {"containerStatuses": [{"name": str, "imageID": str}]}},
}
_WORDS = {str: "a string", int: "a whole number", bool: "true or false", float: "a number"}


def describe(value: Any) -> str:
    """The type of ``value`` in words, never the value itself."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    return "a string" if isinstance(value, str) else type(value).__name__


def check_object(obj: dict[str, Any], source: str) -> None:
    """Raise a ``DevenvError`` naming ``source:line`` at the first field of ``obj`` whose type is
    not what Kubernetes (and devenv) expect; objects of kinds devenv does not read pass."""
    kind = obj.get("kind")
    if not isinstance(kind, str):
        raise _error(source, obj, "kind", "", "kind", "a string", obj.get("kind"))
    shape = SHAPES.get(kind)
    if shape is not None and not fits(obj, shape):
        name = obj.get("metadata", {}).get("name") if isinstance(obj.get("metadata"), dict) else None
        what = f"{kind} {name}" if isinstance(name, str) else kind
        _check(obj, shape, (), what, source, obj)


def fits(value: Any, shape: Any) -> bool:
    """Whether ``_check`` would pass ``value``: the same rules without the path and the message, so
    the common case (every object of a big dump fits) costs a third; the first object that does not
    fit is checked again by ``_check`` for its message."""
    if value is None or shape is None:
        return True
    kind = type(shape)
    if kind is dict:
        return isinstance(value, dict) and all(fits(value[k], sub) for k, sub in shape.items() if k in value)
    if kind is list:
        return isinstance(value, list) and all(fits(v, shape[0]) for v in value)
    if kind is MapOf:
        return isinstance(value, dict) and (shape.value is None or all(fits(v, shape.value) for v in value.values()))
    if kind is OneOf:
        return isinstance(value, shape.types) and not isinstance(value, dict | list)
    return isinstance(value, shape) and not (shape is int and isinstance(value, bool))


def _check(value: Any, shape: Any, path: tuple[str | int, ...], what: str, source: str, parent: Any) -> None:
    if value is None or shape is None:
        return
    if isinstance(shape, dict):
        _check_fields(value, shape, path, what, source, parent)
    elif isinstance(shape, list):
        _check_list(value, shape[0], path, what, source, parent)
    elif isinstance(shape, MapOf):
        _check_map_of(value, shape, path, what, source, parent)
    else:
        _check_scalar(value, shape, path, what, source, parent)


def _check_fields(value: Any, shape: dict[str, Any], path: tuple[str | int, ...], what: str, source: str,
                  parent: Any) -> None:
    if not isinstance(value, dict):
        raise _error(source, parent, path[-1] if path else None, what, _dotted(path), "a mapping", value)
    for key, sub in shape.items():
        if key in value:
            _check(value[key], sub, (*path, key), what, source, value)


def _check_list(value: Any, item: Any, path: tuple[str | int, ...], what: str, source: str, parent: Any) -> None:
    if not isinstance(value, list):
        raise _error(source, parent, path[-1], what, _dotted(path), "a list", value)
    for i, v in enumerate(value):
        _check(v, item, (*path, i), what, source, value)


def _check_map_of(value: Any, shape: MapOf, path: tuple[str | int, ...], what: str, source: str,
                  parent: Any) -> None:
    if not isinstance(value, dict):
        raise _error(source, parent, path[-1], what, _dotted(path), "a mapping", value)
    if shape.value is not None:
        for k, v in value.items():
            _check(v, shape.value, (*path, str(k)), what, source, value)


def _check_scalar(value: Any, shape: Any, path: tuple[str | int, ...], what: str, source: str, parent: Any) -> None:
    if isinstance(shape, OneOf):
        ok, words = isinstance(value, shape.types) and not isinstance(value, dict | list), shape.words
    else:
        ok = isinstance(value, shape) and not (shape is int and isinstance(value, bool))
        words = _WORDS.get(shape, shape.__name__)
    if not ok:
        raise _error(source, parent, path[-1], what, _dotted(path), words, value)


def _dotted(path: tuple[str | int, ...]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _error(source: str, parent: Any, key: Any, what: str, field: str, expected: str, value: Any) -> DevenvError:
    line = line_of(parent, key)
    where = f"{source}:{line}" if line else source
    return DevenvError(f"{where}: {what}: {field} must be {expected}, got {describe(value)}".replace(": : ", ": "),
                       "fix the object (the API server would refuse it too), or dump it again with "
                       "`kubectl get ... -o yaml`")
