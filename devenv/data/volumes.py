"""What both backends' data drivers share, and pure: which volumes a tenant has, who depends
on them, which of them a snapshot restores, whether a snapshot is intact, sizes for people."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from devenv.data import store
from devenv.errors import DevenvError
from devenv.model.types import TenantSpec


@dataclass(frozen=True)
class TenantVolume:
    """A volume of the tenant's spec: its key in devenv.yaml, its engine name, who mounts it."""

    key: str
    name: str
    components: tuple[str, ...]
    target: str


def tenant_volumes(spec: TenantSpec) -> list[TenantVolume]:
    """Every named volume the tenant's components mount (one entry per volume, first mounter's
    target), in devenv.yaml order. Pure: the renderer names volumes ``<project>_<key>``."""
    found: dict[str, TenantVolume] = {}
    for w in spec.workloads.values():
        for v in w.volumes:
            old = found.get(v.name)
            comps = (*old.components, w.name) if old else (w.name,)
            found[v.name] = TenantVolume(v.name, f"{spec.project}_{v.name}", comps, old.target if old else v.target)
    return list(found.values())


def dependents(spec: TenantSpec, components: Iterable[str]) -> list[str]:
    """Components that depend, directly or not, on any of ``components`` (not those themselves)."""
    base = set(components)
    out: set[str] = set()
    changed = True
    while changed:
        changed = False
        for w in spec.workloads.values():
            if w.name not in base | out and set(w.depends_on) & (base | out):
                out.add(w.name)
                changed = True
    return [c for c in spec.workloads if c in out]


def restorable(spec: TenantSpec, snap: store.Snapshot) -> list[TenantVolume]:
    """The tenant's volumes the snapshot holds, in the snapshot's order; a volume the tenant no
    longer mounts is refused before anything is touched."""
    by_key = {v.key: v for v in tenant_volumes(spec)}
    unknown = [e.volume for e in snap.volumes if e.volume not in by_key]
    if unknown:
        raise DevenvError(f"snapshot {snap.name} holds volume(s) {', '.join(unknown)} that tenant {spec.name} "
                          "no longer mounts", "devenv.yaml changed since; restore by hand or take a new snapshot")
    return [by_key[e.volume] for e in snap.volumes]


def current_of(state: dict[str, Any], ids: dict[str, str]) -> str:
    """The snapshot ``state`` (``data.json``) says the data came from, if the volumes still carry
    the ids that restore gave them (``ids``: volume -> data id); '' for own or recreated data."""
    if not state.get("snapshot") or not any(ids.values()) or state.get("volumes") != ids:
        return ""
    return str(state["snapshot"])


def verify(snap: store.Snapshot) -> None:
    """Every tar is there with the size and digest it was written with, before anything is touched."""
    assert snap.path is not None
    for e in snap.volumes:
        path = snap.path / e.file
        digest = hashlib.sha256()
        try:
            with path.open("rb") as f:
                for chunk in iter(partial(f.read, 1 << 20), b""):
                    digest.update(chunk)
        except OSError as exc:
            raise DevenvError(f"snapshot {snap.tenant}/{snap.name}: cannot read {path} ({exc.strerror})",
                              "the snapshot is incomplete; remove it with `devenv data rm`") from exc
        if digest.hexdigest() != e.sha256:
            raise DevenvError(f"snapshot {snap.tenant}/{snap.name}: {e.file} does not match its recorded digest",
                              "the file was changed or truncated; nothing was restored")


def human(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"
