"""Small filesystem helpers: the one atomic writer (temp file, fsync, rename), owner-only
directories and files for state (paths come from ``devenv.layout``), and bounded, non-blocking
reads of the files devenv is handed.

Every failure here becomes a ``DevenvError`` naming the path and the fix: a ``.devenv`` that is a
file or read-only, a FIFO where a profile should be, a directory where a Dockerfile should be. A
write anywhere under a ``.devenv/`` directory first makes sure its ``.gitignore`` exists, so
nothing devenv keeps there (generated secrets included) is ever staged by ``git add``.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

from devenv.errors import DevenvError

STATE = ".devenv"  # the name only, to recognise a write under it: paths come from devenv.layout


def kind_of(mode: int) -> str:
    """What a non-regular file is, in words a user knows."""
    kinds = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"), (stat.S_ISLNK, "a symlink"))
    return next((word for test, word in kinds if test(mode)), "not a regular file")


# what a refused ``doing`` lacks: reading lacks r, creating lacks w on the folder, protecting
# (chmod) fails on a file another user owns, using a path lacks x on a folder above it
_RIGHTS = {
    "read": "give yourself read access (chmod u+r {path})",
    "write": "give yourself write access (chmod u+w {path})",
    "open": "give yourself read and write access (chmod u+rw {path})",
    "create": "give yourself write access to its folder (chmod u+w {parent})",
    "protect": "it belongs to another user: take it over (chown) or remove it, and devenv makes it again",
    "use": "check the permissions of {path} and of the folders above it (each needs u+x)",
}


def os_error(exc: OSError, path: Path | str, doing: str = "write") -> DevenvError:
    """A foreign ``OSError`` as the user's message: the path, why, and what to do about it."""
    why = exc.strerror or str(exc)
    rights = _RIGHTS.get(doing, _RIGHTS["write"]).format(path=path, parent=Path(path).parent)
    hints = {
        errno.EACCES: f"{rights}, or run devenv where you have the rights",
        errno.EPERM: f"{rights}, or run devenv where you have the rights",
        errno.EROFS: "the file system is read-only; use a project on a writable disk",
        errno.ENOSPC: "free some disk space",
        errno.ENOTDIR: "a file stands where a directory is needed: move it away",
        errno.EEXIST: "a file stands where a directory is needed: move it away",
        errno.EISDIR: "a directory stands where a file is needed: move it away",
        errno.ENOENT: "check the path",
        errno.ELOOP: "a symlink loops: fix or remove it",
    }
    return DevenvError(f"cannot {doing} {path}: {why}", hints.get(exc.errno or 0, "check the path and its permissions"))


def _state_root(path: Path) -> Path | None:
    """The ``.devenv`` directory ``path`` lies in, if any."""
    for p in (path, *path.parents):
        if p.name == STATE:
            return p
    return None


IGNORE_ALL = "*\n"


def _ensure_gitignore(d: Path) -> None:
    """``.devenv/.gitignore`` ignores everything: written when absent, and rewritten when it does
    not (emptied, edited to re-include ``secrets/``, a symlink, a FIFO), so a secret under
    ``.devenv/`` is never one ``git add -A`` away."""
    gi = d / ".gitignore"
    try:
        st = os.lstat(gi)
        if stat.S_ISREG(st.st_mode) and st.st_size <= 4096 and _ignores_all(gi.read_text("utf-8", "replace")):
            return
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise os_error(exc, gi, "read") from None
    _write_file(gi, IGNORE_ALL, 0o600)  # owner-only like everything under .devenv/


def _ignores_all(text: str) -> bool:
    rules = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return "*" in rules and not any(r.startswith("!") for r in rules)


def _mkdirs(path: Path) -> None:
    """Create ``path`` and its missing parents owner-only, refusing a file or a special file in
    the way with the path that blocks."""
    missing: list[Path] = []
    for p in (path, *path.parents):
        try:
            st = os.stat(p)
        except (FileNotFoundError, NotADirectoryError):  # a file higher up is named below
            missing.append(p)
            continue
        except OSError as exc:
            raise os_error(exc, p, "use") from None
        if not stat.S_ISDIR(st.st_mode):
            raise DevenvError(f"{p} is {kind_of(st.st_mode) if not stat.S_ISREG(st.st_mode) else 'a file'}, "
                              "not a directory", f"move {p} away (devenv keeps its state in a directory there)")
        break
    for p in reversed(missing):
        try:
            p.mkdir(mode=0o700, exist_ok=True)
        except OSError as exc:
            raise os_error(exc, p, "create") from None


def private_dir(path: Path) -> Path:
    """Create ``path`` and any missing parents owner-only (0700): state may hold secrets. Under a
    ``.devenv`` directory its ``.gitignore`` is guaranteed too."""
    state = _state_root(path)
    if state is not None:
        _refuse_symlink_out(path, state)
    _mkdirs(path)
    if state is not None:
        _ensure_gitignore(state)
    return path


def _refuse_symlink_out(path: Path, state: Path) -> None:
    """A ``.devenv`` (or a directory in it) that is a symlink leading out of the project would make
    devenv write its state, secrets included, somewhere else: a cloned repository could point it at
    any directory of the user's. A symlink that stays inside the project is followed."""
    for p in (path, *path.parents):  # the root is resolved only once a symlink is met: most writes meet none
        if os.path.islink(p) and not _inside(Path(os.path.realpath(p)), Path(os.path.realpath(state.parent))):
            raise DevenvError(f"{p} is a symlink leading outside the project (to {os.path.realpath(p)})",
                              f"remove the symlink (rm {p}): devenv keeps its state, secrets included, "
                              "in a directory inside the project")
        if p == state:
            return


def _write_file(path: Path, text: str | bytes, mode: int) -> None:
    try:
        import tempfile  # lazily: read-only commands (status) never write

        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    except OSError as exc:
        raise os_error(exc, path.parent) from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(text.encode("utf-8") if isinstance(text, str) else text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise os_error(exc, path) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write(path: Path, text: str | bytes, mode: int = 0o600) -> Path:
    """Write ``text`` to ``path`` so a reader sees the old or the new file, never half of one.
    Refuses to replace anything but a regular file (a device, a FIFO, a directory)."""
    private_dir(path.parent)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise os_error(exc, path) from None
    if st is not None and not (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)):
        raise DevenvError(f"{path} is {kind_of(st.st_mode)}; devenv replaces only regular files",
                          f"move {path} away")
    _write_file(path, text, mode)
    return path


def atomic_write_json(path: Path, data: object) -> Path:
    """``atomic_write`` of compact, key-sorted JSON in an owner-only directory (caches, records)."""
    import json

    private_dir(path.parent)
    return atomic_write(path, json.dumps(data, separators=(",", ":"), sort_keys=True))


def private_open(path: Path, mode: str = "a+"):  # type: ignore[no-untyped-def]
    """Open (creating owner-only, 0600) a state file such as a lock."""
    private_dir(path.parent)
    try:
        return os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK, 0o600), mode)
    except OSError as exc:
        raise os_error(exc, path, "open") from None


def read_bytes(path: Path, limit: int, shown: str | None = None) -> bytes:
    """At most ``limit + 1`` bytes of the regular file ``path`` (the caller says what too large
    means). A FIFO, socket, device or directory is refused without opening it for a blocking read:
    a FIFO in ``profiles/`` must not hang ``validate``."""
    name = shown or str(path)
    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise DevenvError(f"{name} is {kind_of(st.st_mode)}, not a regular file",
                              f"replace {name} with a regular file (or remove it)")
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise os_error(exc, name, "read") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):  # swapped between the stat and the open
            raise DevenvError(f"{name} changed while being read", "run the command again")
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise os_error(exc, name, "read") from None
    finally:
        os.close(fd)


def read_record(path: Path, fmt: int, limit: int = 4 << 20) -> dict[str, Any] | None:
    """A JSON object devenv wrote under ``.devenv/`` as a shortcut (an index, a replay record), when it
    is one and of format ``fmt``; None when it is absent, unreadable, foreign or of another version:
    a shortcut that does not hold only sends the caller the long way, it is never an error."""
    import json

    try:  # a FIFO or a device in its place is "unreadable" too: never a blocking open
        record = json.loads(read_bytes(path, limit))
    except (DevenvError, OSError, ValueError, RecursionError):
        return None
    return record if isinstance(record, dict) and record.get("format") == fmt else None


def read_text(path: Path, limit: int = 16 * 1024 * 1024, shown: str | None = None) -> str:
    """``read_bytes`` decoded as UTF-8 (bad bytes replaced); larger than ``limit`` is an error."""
    raw = read_bytes(path, limit, shown)
    if len(raw) > limit:
        name = shown or str(path)
        raise DevenvError(f"{name} is larger than {limit // 1024} KiB", f"check that {name} is the file you meant")
    return raw.decode("utf-8", errors="replace")


STREAMS = ("-", "/dev/stdout")
_OPEN_FDS = ("/dev/fd/", "/proc/self/fd/", "/dev/stderr")


def is_stream(target: str) -> bool:
    """``-``, ``/dev/stdout`` and an already-open descriptor (``>(cmd)`` gives ``/dev/fd/63``)
    are streamed into, never replaced."""
    return target in STREAMS or target.startswith(_OPEN_FDS)


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
    except ValueError:
        return False
    return True


def output_refusal(target: Path, root: Path, force: bool) -> str | None:
    """Why writing to ``target`` needs ``--force`` (or is impossible), or ``None`` when it is a new
    file or a regular file inside the project. Never follows a symlink out of ``root`` silently."""
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise os_error(exc, target) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise DevenvError(f"{target} is a directory", f"name a file, e.g. {target / 'out.yaml'}")
    if st is not None and not stat.S_ISREG(st.st_mode):
        return None if force else f"{target} is {kind_of(st.st_mode)}"
    real = Path(os.path.realpath(target))
    if target.is_symlink() and not _inside(real, Path(os.path.realpath(root))) and not force:
        return f"{target} is a symlink leading outside the project (to {real})"
    return None


def write_into_special(target: Path, text: str) -> None:
    """With ``--force``, a device or FIFO is written into, never replaced (``/dev/null`` stays)."""
    try:
        fd = os.open(target, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if exc.errno == errno.ENXIO:
            raise DevenvError(f"no process reads the FIFO {target}", "start its reader first") from None
        raise os_error(exc, target) from None
    try:
        os.set_blocking(fd, True)
        data = text.encode()
        while data:
            data = data[os.write(fd, data):]
    except OSError as exc:
        raise os_error(exc, target) from None
    finally:
        os.close(fd)


def state_text(path: Path, limit: int = 64 * 1024 * 1024) -> str:
    """A state or cache file's text (``builds.json``, ``digests.json``...). Raises ``ValueError``
    when it is missing, unreadable, not a regular file or too large: callers treat that as "no
    state yet" and rebuild it, never block on a FIFO put in its place."""
    try:
        raw = read_bytes(path, limit)
    except DevenvError as exc:
        raise ValueError(exc.message) from None
    if len(raw) > limit:
        raise ValueError(f"{path} is larger than {limit} bytes")
    return raw.decode("utf-8", errors="replace")
