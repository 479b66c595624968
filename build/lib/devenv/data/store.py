"""Where snapshots live: ``.devenv/snapshots/<tenant>/<name>/`` with one tar per volume and a
``snapshot.json`` that says what it holds (size, time, the images it came from).

A snapshot is written into a staging directory beside its final place and renamed into it only
once every volume and the metadata are on disk, so a crash or Ctrl+C never leaves a snapshot that
``list`` shows and ``restore`` would half-apply. Everything is owner-only: a tenant's data is
production-shaped. Names are checked before they reach a path (no ``..``, no ``/``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devenv import layout
from devenv.errors import DevenvError
from devenv.fsutil import atomic_write, private_dir
from devenv.layout import ensure as state_dir

META = "snapshot.json"
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
STAGING_PREFIX = ".staging-"


@dataclass(frozen=True)
class VolumeEntry:
    """One volume of the snapshot: ``volume`` is its key in devenv.yaml (``pgdata``), ``component``
    the service that mounts it, ``file`` the tar beside ``snapshot.json``."""

    volume: str
    component: str
    target: str
    file: str
    bytes: int
    sha256: str


@dataclass(frozen=True)
class ImageEntry:
    """The image a component ran when the snapshot was taken (reference and engine id)."""

    ref: str
    id: str = ""


@dataclass(frozen=True)
class Snapshot:
    tenant: str
    name: str
    created: str  # ISO 8601, UTC
    backend: str
    app: str
    volumes: tuple[VolumeEntry, ...]
    images: dict[str, ImageEntry] = field(default_factory=dict)
    path: Path | None = None

    @property
    def size(self) -> int:
        return sum(v.bytes for v in self.volumes)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["volumes"] = [asdict(v) for v in self.volumes]
        d["images"] = {k: asdict(v) for k, v in sorted(self.images.items())}
        d["size"] = self.size
        d["path"] = str(self.path) if self.path else None
        return d


def check_name(name: str, what: str = "snapshot") -> str:
    """A name that is safe as one path component; anything else is refused with the rule."""
    if not NAME_RE.match(name or ""):
        raise DevenvError(f"invalid {what} name {name!r}",
                          "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit "
                          "(no '/', no '..')")
    return name


def default_name(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def tenant_dir(root: Path, tenant: str) -> Path:
    return state_dir(root, "snapshots", check_name(tenant, "tenant"))


def snapshot_dir(root: Path, tenant: str, name: str) -> Path:
    return tenant_dir(root, tenant) / check_name(name)


def exists(root: Path, tenant: str, name: str) -> bool:
    return (snapshot_dir(root, tenant, name) / META).is_file()


def read(root: Path, tenant: str, name: str) -> Snapshot:
    """The snapshot, or a ``DevenvError`` listing the tenant's snapshots."""
    path = snapshot_dir(root, tenant, name)
    if not (path / META).is_file():
        have = [s.name for s in list_snapshots(root, tenant)]
        raise DevenvError(f"tenant {tenant} has no snapshot named {name!r}",
                          f"its snapshots: {', '.join(have)}" if have else
                          f"take one with `devenv data snapshot --tenant {tenant} [NAME]`")
    return _parse(path)


def _parse(path: Path) -> Snapshot:
    try:
        d = json.loads((path / META).read_text(encoding="utf-8"))
        return Snapshot(tenant=d["tenant"], name=d["name"], created=d["created"], backend=d["backend"],
                        app=d.get("app", ""), volumes=tuple(VolumeEntry(**v) for v in d["volumes"]),
                        images={k: ImageEntry(**v) for k, v in (d.get("images") or {}).items()}, path=path)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DevenvError(f"snapshot {path} is damaged ({type(exc).__name__}: {exc})",
                          f"remove it with `devenv data rm`, or delete {path}") from exc


def list_snapshots(root: Path, tenant: str | None = None) -> list[Snapshot]:
    """Every complete snapshot (staging directories are not snapshots), oldest first."""
    base = layout.state_root(root) / "snapshots"
    tenants = [tenant] if tenant else sorted(p.name for p in base.iterdir() if p.is_dir()) if base.is_dir() else []
    out = []
    for t in tenants:
        d = base / t
        for p in sorted(d.iterdir()) if d.is_dir() else ():
            if NAME_RE.match(p.name) and (p / META).is_file():
                out.append(_parse(p))
    return sorted(out, key=lambda s: (s.tenant, s.created, s.name))


def remove(root: Path, tenant: str, name: str) -> Snapshot:
    snap = read(root, tenant, name)
    assert snap.path is not None
    shutil.rmtree(snap.path)
    return snap


@contextmanager
def staging(root: Path, tenant: str, name: str) -> Iterator[Path]:
    """A private directory to write the snapshot's files into; ``commit`` moves it in place. On
    any error (Ctrl+C included) it is removed, and no snapshot of that name appears."""
    final = snapshot_dir(root, tenant, name)
    if final.exists():
        raise DevenvError(f"tenant {tenant} already has a snapshot named {name!r}",
                          f"choose another name, or remove it first: `devenv data rm --tenant {tenant} {name}`")
    tmp = final.parent / f"{STAGING_PREFIX}{name}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    private_dir(tmp)
    try:
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def commit(tmp: Path, snap: Snapshot) -> Snapshot:
    """Write ``snapshot.json`` into the staging directory and rename it to its final name."""
    assert tmp.name.startswith(STAGING_PREFIX)
    final = tmp.parent / snap.name
    meta = {k: v for k, v in snap.to_json().items() if k not in ("path", "size")}
    meta["size"] = snap.size
    atomic_write(tmp / META, json.dumps(meta, indent=2, sort_keys=True) + "\n")
    os.rename(tmp, final)
    return Snapshot(**{**snap.__dict__, "path": final})


# -- which data a tenant runs on -------------------------------------------------------------------

STATE = "data.json"


def read_state(root: Path, tenant: str) -> dict[str, Any]:
    """``.devenv/<tenant>/data.json``: the snapshot the tenant's volumes were last restored from
    (and when), and the seed that ran on them. Keyed by the volumes' creation times, so data that
    was recreated since (``down --volumes``) does not claim a snapshot or a seed it no longer has."""
    path = layout.tenant_dir(root, check_name(tenant, "tenant")) / STATE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def write_state(root: Path, tenant: str, data: dict[str, Any]) -> None:
    atomic_write(state_dir(root, check_name(tenant, "tenant")) / STATE, json.dumps(data, indent=2, sort_keys=True) + "\n")
