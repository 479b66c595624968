"""Where a project is, which files it is read from, and the fingerprint of their content.

Light on purpose (paths, hashlib, a non-blocking read): the validated-config cache keys its entry
with ``fingerprint``, and ``devenv status`` checks its own index against it, without loading YAML,
the validator or the model's dataclasses.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from devenv.errors import DevenvError
from devenv.fsutil import read_bytes

APP_FILE = "devenv.yaml"
PROFILES_DIR = "profiles"
OVERLAY_FILES = ("devenv.local.yaml", "devenv.personal.yaml")
FORMAT = 4  # 2: errors.Problem is a named tuple; 3: BLAKE2b; 4: the overlay lists its secret files
MAX_INPUT = 16 * 1024 * 1024  # past the loader's own limit: such a file is reported by the full pass
_MODEL_DIR = Path(__file__).resolve().parent / "model"
_SCHEMA_DIR = _MODEL_DIR.parent / "schema"


def find_root(start: Path | None = None) -> Path:
    """The nearest directory at or above ``start`` (default: $DEVENV_ROOT or the cwd) that holds
    ``devenv.yaml``."""
    env_root = os.environ.get("DEVENV_ROOT")
    here = Path(start or env_root or Path.cwd()).resolve()
    for d in (here, *here.parents):
        if present(d / APP_FILE):  # a FIFO or directory there is reported, not walked past
            return d
    raise DevenvError(f"no {APP_FILE} found in {here} or any parent directory",
                      "run devenv from your project's directory, or pass --root DIR")


def present(path: Path) -> bool:
    """Something stands at ``path`` (a dangling or looping symlink too): it is read and any problem
    reported, never skipped silently."""
    try:
        return path.exists() or path.is_symlink()
    except OSError:
        return True


def project_root(root: Path | None = None) -> Path:
    return find_root(root) if root is None or not present(Path(root) / APP_FILE) else Path(root).resolve()


def input_files(root: Path) -> list[Path]:
    """Every file whose content the validated project depends on, in a stable order."""
    files = [root / name for name in (APP_FILE, *OVERLAY_FILES)]
    with contextlib.suppress(OSError):
        files += sorted(p for p in (root / PROFILES_DIR).iterdir() if p.suffix in (".yaml", ".yml"))
    files += sorted(_SCHEMA_DIR.glob("*.json"))
    return files


def fingerprint(root: Path, strict: bool) -> str:
    """The cache key: content of every input (a missing file hashes as missing), plus the code."""
    from devenv import __version__

    h = _hasher(f"{FORMAT}\0{__version__}\0{root}\0{strict}\0".encode())
    for f in input_files(root):
        h.update(f"\0{f.name}\0".encode())
        try:  # bounded and non-blocking: a FIFO among the profiles must not hang every command
            h.update(read_bytes(f, MAX_INPUT))
        except DevenvError:
            h.update(b"\0missing")
    h.update(b"dockerfile-parser:%d" % _has_dockerfile_parser())  # its absence is a warning
    for src in sorted(_MODEL_DIR.glob("*.py")):  # an edited validator (editable install) invalidates
        try:
            st = src.stat()
            h.update(f"{src.name}:{st.st_mtime_ns}:{st.st_size}".encode())
        except OSError:
            pass
    return str(h.hexdigest())


def _hasher(first: bytes) -> Any:
    """BLAKE2b, CPython's built-in one where it is there: ``hashlib`` loads OpenSSL at import (~4 ms
    of an instant command), and a cache key needs no particular algorithm."""
    try:
        from _blake2 import blake2b
    except ImportError:  # another Python: hashlib has it everywhere
        from hashlib import blake2b
    return blake2b(first, digest_size=32)


def _has_dockerfile_parser() -> bool:
    """Whether validation's optional Dockerfile parser is installed (installing it changes the warnings)."""
    import importlib.util

    return importlib.util.find_spec("dockerfile") is not None
