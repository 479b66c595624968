"""Small filesystem helpers: the one atomic writer (temp file, fsync, rename) and owner-only
directories and files for state (paths come from ``devenv.layout``)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, text: str | bytes, mode: int = 0o600) -> Path:
    """Write ``text`` to ``path`` so a reader sees the old or the new file, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8") if isinstance(text, str) else text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents owner-only (0700): state may hold secrets."""
    missing = [p for p in (path, *path.parents) if not p.exists()]
    for p in reversed(missing):
        p.mkdir(mode=0o700, exist_ok=True)
    return path


def private_open(path: Path, mode: str = "a+"):  # type: ignore[no-untyped-def]
    """Open (creating owner-only, 0600) a state file such as a lock."""
    private_dir(path.parent)
    return os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), mode)


def atomic_write_json(path: Path, data: object) -> Path:
    """``atomic_write`` of compact, key-sorted JSON in an owner-only directory (caches, records)."""
    import json

    private_dir(path.parent)
    return atomic_write(path, json.dumps(data, separators=(",", ":"), sort_keys=True))
