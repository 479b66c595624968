"""Pure parsers of compose's value syntaxes: ports, volumes, durations, sizes, CPU counts.

Each accepts any value (the file is foreign input) and returns ``None`` or raises ``ValueError``
with a sentence a person can act on; the caller attaches the file's line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

BUILD_CARRIED = {"context", "dockerfile", "args", "target"}
BUILD_DROPPED = {
    "cache_from": "devenv's builds are content-addressed: an unchanged context is never rebuilt",
    "cache_to": "devenv's builds are content-addressed: an unchanged context is never rebuilt",
    "no_cache": "devenv's builds are content-addressed: an unchanged context is never rebuilt",
    "pull": "devenv builds on the local base image",
    "labels": "devenv labels what it builds itself",
    "tags": "devenv tags images with their content digest",
    "platforms": "images build for this machine's platform",
    "network": "builds use the engine's default network",
    "extra_hosts": "builds use the engine's default network",
    "shm_size": "not carried by devenv's builder",
    "ssh": "SSH agent forwarding is not carried by devenv's builder",
    "secrets": "build secrets are not carried by devenv's builder (never bake secrets into images)",
    "additional_contexts": "devenv hashes one context per image; COPY --from another context is not carried",
    "isolation": "a Windows setting; not carried",
    "privileged": "privileged builds are not carried",
    "ulimits": "not carried by devenv's builder",
    "entitlements": "not carried by devenv's builder",
    "provenance": "not carried by devenv's builder",
    "sbom": "not carried by devenv's builder",
}
HTTP_PORTS = {80, 3000, 4000, 4200, 5000, 5173, 8000, 8008, 8080, 8081, 8443, 8501, 8888, 9000}
DURATION = re.compile(r"(\d+(?:\.\d+)?)(us|µs|ms|s|m|h)")
DURATION_UNITS = {"us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([bkmgt]?)b?\s*$", re.IGNORECASE)
SIZE_UNITS = {"": "", "b": "", "k": "Ki", "m": "Mi", "g": "Gi", "t": "Ti"}


def scalar(value: Any) -> str:
    """An env-like value as compose passes it: booleans as ``true``/``false``, None as empty, a
    float as Go prints it (``1.0``, ``1e3``, ``1e6`` as ``1``, ``1000``, ``1e+06``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _go_float(value)
    return "" if value is None else str(value)


def _go_float(value: float) -> str:
    """Go's shortest ``%g`` of a float64, as compose prints one: the exponent form below 1e-4 and
    from 1e6 (``1e+06``), plain decimals between, ``+Inf``/``NaN``."""
    if value != value or value in (float("inf"), float("-inf")):
        return "NaN" if value != value else ("+Inf" if value > 0 else "-Inf")
    from decimal import Decimal

    exact = Decimal(repr(value)).normalize()  # repr: the shortest digits that read back the same
    sign, digits, exp = exact.as_tuple()
    shown, power = "".join(map(str, digits)), len(digits) + int(exp) - 1
    if -4 <= power < 6:
        return format(exact, "f")
    mantissa = shown[0] + ("." + shown[1:] if len(shown) > 1 else "")
    return f"{'-' if sign else ''}{mantissa}e{'-' if power < 0 else '+'}{abs(power):02d}"


def env_mapping(value: Any) -> dict[str, Any]:
    """``environment`` / build ``args``: a mapping, or a list of ``KEY=VALUE`` (``KEY`` alone: None)."""
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items()}
    out: dict[str, Any] = {}
    for item in value if isinstance(value, list) else []:
        k, sep, v = str(item).partition("=")
        out[k.strip()] = v if sep else None
    return out


def build_spec(value: Any) -> dict[str, Any] | None:
    if isinstance(value, str):
        return {"context": value}
    return dict(value) if isinstance(value, dict) else None


def duration(value: Any) -> float:
    """Compose durations: ``30s``, ``1m30s``, ``1.5s``, ``500ms``, or a number of seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    matches = list(DURATION.finditer(text))
    if not matches or "".join(m.group() for m in matches) != text:
        raise ValueError(f"'{text}' is not a duration (e.g. 10s, 1m30s, 500ms)")
    return sum(float(m.group(1)) * DURATION_UNITS[m.group(2)] for m in matches)


def memory(value: Any) -> str:
    """Compose byte sizes (``512m``, ``1gb``, ``1073741824``; binary units) as a Kubernetes quantity."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    match = SIZE.match(str(value))
    if match is None:
        raise ValueError(f"'{value}' is not a size (e.g. 512m, 1g)")
    number, unit = match.group(1), match.group(2).lower()
    if "." in number:
        scale = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}[unit]
        return str(int(float(number) * scale))
    return number + SIZE_UNITS[unit]


def cpus(value: Any) -> str:
    """``0.5`` or ``"1.5"`` CPUs as a Kubernetes quantity (``500m``, ``1500m``, ``2``)."""
    number = float(str(value))
    if number <= 0:
        raise ValueError(f"'{value}' is not a positive number of CPUs")
    return str(int(number)) if number.is_integer() else f"{round(number * 1000)}m"


# --- ports -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PortSpec:
    container: int
    protocol: str = "tcp"
    published: bool = False
    name: str | None = None
    http: bool = False
    host_ip: str | None = None


def _port_range(text: str) -> list[int]:
    low, sep, high = text.partition("-")
    first, last = int(low), int(high) if sep else int(low)
    if not (1 <= first <= last <= 65535) or last - first > 100:
        raise ValueError(f"'{text}' is not a port or a range of at most 100 ports")
    return list(range(first, last + 1))


def ports(value: Any) -> list[PortSpec]:
    """One entry of ``ports:`` (short or long syntax) as the container ports it names."""
    if isinstance(value, dict):
        return [_long_port(value)]
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("a port is a number, a string such as '8080:80' or a mapping with `target:`")
    text, _, protocol = str(value).partition("/")
    host_ip = None
    if text.startswith("["):  # [::1]:8080:80
        close = text.find("]")
        host_ip, text = text[1:close], text[close + 2:]
    pieces = text.rsplit(":", 2)
    if len(pieces) == 3:
        host_ip = pieces[0]
    try:
        container = _port_range(pieces[-1])
    except ValueError:
        raise ValueError(f"'{value}': the container port must be a number or a range like 8000-8002") from None
    if len(pieces) > 1 and pieces[-2]:  # devenv allocates host ports itself, but compose refuses a bad one
        try:
            _port_range(pieces[-2])
        except ValueError:
            raise ValueError(f"'{value}': the published (host) port must be a number or a range like 8000-8002") from None
    return [PortSpec(p, protocol or "tcp", len(pieces) > 1, None, p in HTTP_PORTS, host_ip) for p in container]


def _long_port(value: dict[str, Any]) -> PortSpec:
    target = value.get("target")
    if isinstance(target, str) and target.isdigit():
        target = int(target)
    if not isinstance(target, int) or isinstance(target, bool) or not 1 <= target <= 65535:
        raise ValueError("the long syntax needs `target:` (the container port, 1-65535)")
    app = str(value.get("app_protocol") or "").lower()
    name = value.get("name") if isinstance(value.get("name"), str) else None
    return PortSpec(target, str(value.get("protocol") or "tcp").lower(), value.get("published") is not None,
                    name, app in ("http", "https", "http2") or (not app and target in HTTP_PORTS),
                    value.get("host_ip"))


def expose(value: Any) -> list[int]:
    text = str(value).partition("/")[0]
    return _port_range(text)


# --- volumes -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Mount:
    kind: str  # volume | bind | tmpfs | other
    source: str | None
    target: str
    read_only: bool = False


def mount(value: Any) -> Mount:
    """One entry of a service's ``volumes:`` (short or long syntax)."""
    if isinstance(value, dict):
        target = value.get("target")
        if not isinstance(target, str) or not target:
            raise ValueError("the long syntax needs `target:` (the path in the container)")
        source = value.get("source")
        return Mount(str(value.get("type") or "volume"), None if source is None else str(source), target,
                     bool(value.get("read_only")))
    if not isinstance(value, str) or not value:
        raise ValueError("a volume is 'SOURCE:TARGET[:MODE]', 'TARGET' or a mapping with `type:` and `target:`")
    pieces = value.split(":")
    if len(pieces) == 1:
        return Mount("volume", None, pieces[0])
    source, target = pieces[0], pieces[1]
    mode = pieces[2] if len(pieces) > 2 else ""
    bind = source.startswith((".", "/", "~")) or "/" in source
    return Mount("bind" if bind else "volume", source, target, "ro" in mode.split(","))
