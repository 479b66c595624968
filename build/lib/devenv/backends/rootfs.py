"""Fast file sync: write straight into a running container's root filesystem on this host.

With a local engine on Linux (overlay2), a running container's merged root is mounted on the host
at ``GraphDriver.Data.MergedDir``; writing there is what the container sees, at the cost of a file
copy (about a millisecond) instead of the archive API's untar helper (36 ms idle, 100 ms loaded).
Where that directory is not reachable (Docker Desktop's VM, a remote engine, another storage
driver, no permission) callers fall back to the archive API; ``DEVENV_SYNC=archive`` forces it.

Safety: the container owns its filesystem, so a symlink it planted on the destination path could
point our write at a host file. Every existing component of the destination is checked with
``lstat`` and any symlink sends the file back to the archive API, which resolves inside the
container.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path
from typing import Any


def enabled() -> bool:
    return os.environ.get("DEVENV_SYNC", "auto") != "archive"


def merged_dir(attrs: dict[str, Any]) -> Path | None:
    """The container's merged root on this host, when it is there and writable by us."""
    data = (attrs.get("GraphDriver") or {}).get("Data") or {}
    merged = data.get("MergedDir")
    if not merged or (attrs.get("State") or {}).get("Running") is not True:
        return None
    p = Path(merged)
    try:
        return p if p.is_dir() and os.access(p, os.W_OK) and p.is_mount() else None
    except OSError:
        return None


def _safe_target(root: Path, dest: str) -> Path | None:
    """``root/dest`` if no existing component below ``root`` is a symlink, else None."""
    parts = [p for p in Path(dest).parts if p not in ("/", "")]
    if not parts or ".." in parts:
        return None
    cur = root
    for part in parts:
        cur = cur / part
        try:
            if stat.S_ISLNK(os.lstat(cur).st_mode):
                return None
        except FileNotFoundError:
            break
        except OSError:
            return None
    return root.joinpath(*parts)


def write_files(root: Path, files: list[tuple[Path | None, str]]) -> list[tuple[Path | None, str]]:
    """Copy or delete each file under ``root``; return the ones it could not do safely (for the
    archive API). New directories are created like the archive API would (0755, root-owned)."""
    left: list[tuple[Path | None, str]] = []
    for src, dest in files:
        target = _safe_target(root, dest)
        if target is None:
            left.append((src, dest))
            continue
        try:
            if src is None:
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                else:
                    target.unlink(missing_ok=True)
                continue
            _mkdirs(root, target.parent)
            tmp = target.with_name(f".{target.name}.devenv-sync")
            shutil.copy2(src, tmp)
            os.replace(tmp, target)  # the container never reads half a file
        except FileNotFoundError:  # the source vanished after the event: the next batch says so
            continue
        except OSError:
            left.append((src, dest))
    return left


def _mkdirs(root: Path, d: Path) -> None:
    missing = []
    while d != root and not d.exists():
        missing.append(d)
        d = d.parent
    for m in reversed(missing):
        m.mkdir(mode=0o755)
