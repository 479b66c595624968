"""The event log: every action of every session, one JSON object per line under ``.devenv/``.

Why: "why did this rebuild?" must have an answer after the session ended, and one a user can
attach to a bug report. The engine writes it (so ``up --no-tui``, ``watch`` and the TUI all do):
every timeline entry with its cause, cost and outcome (syncs with their files, rebuilds with their
reasons, redeploys, failures with their log tails) and every crash. Secret values are masked
before anything reaches the disk.

Bounded: past ``MAX_BYTES`` the file rotates (``events.jsonl`` -> ``events.jsonl.1`` ...), and
only ``KEEP`` old files stay. Several processes may write at once: an ``flock`` on a lock file
makes each append (and a rotation) whole.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devenv import layout
from devenv.engine.state import failure_entry
from devenv.errors import DevenvError
from devenv.events import ComponentState, Event, Timeline
from devenv.fsutil import read_bytes

LOG_NAME = "events.jsonl"
MAX_BYTES = 1_000_000
KEEP = 3
READ_MAX = 16 * MAX_BYTES  # a log devenv wrote rotates at MAX_BYTES: past this, the rest is not read
MAX_TS = 32503680000.0  # the year 3000: a later (or negative) time was not written by devenv
DETAIL_MAX = 40  # lines of detail (a build's log tail, a file list) kept per entry
HISTORY = 50  # entries a new session shows from the log

Mask = Callable[[str], str]


def log_path(root: Path) -> Path:
    return layout.state_root(root) / LOG_NAME


def record(ev: Event, mask: Mask = lambda s: s) -> dict[str, Any] | None:
    """The log's object for ``ev``, or None for events the log does not keep (progress, logs)."""
    if isinstance(ev, Timeline):
        return _stamp(ev.ts, {
            "kind": ev.kind, "message": mask(ev.message), "component": ev.component,
            "tenants": list(ev.tenants), "cost_ms": None if ev.cost_ms is None else round(ev.cost_ms, 1),
            "files": list(ev.files), "detail": [mask(d) for d in ev.detail[-DETAIL_MAX:]],
            "outcome": "failed" if ev.kind == "fail" else "ok"})
    failure = failure_entry(ev) if isinstance(ev, ComponentState) else None
    if isinstance(ev, ComponentState) and failure is not None:  # the store's timeline has the same line
        return _stamp(ev.ts, {
            "kind": "crash" if ev.state == "crashed" else "unhealthy", "component": ev.component,
            "tenants": [ev.tenant], "message": mask(failure.message),
            "cost_ms": None, "files": [], "detail": [], "outcome": "failed"})
    return None


def _stamp(ts: float, rec: dict[str, Any]) -> dict[str, Any]:
    when = datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds")
    return {"ts": round(ts, 3), "time": when, **rec}


class EventLog:
    """An engine subscriber appending ``record``s to ``.devenv/events.jsonl``."""

    def __init__(self, root: Path, mask: Mask = lambda s: s, max_bytes: int = MAX_BYTES, keep: int = KEEP) -> None:
        self.path = log_path(root)
        self.mask = mask
        self.max_bytes = max_bytes
        self.keep = keep
        self._lock = threading.Lock()
        self.failed = False

    def __call__(self, ev: Event) -> None:
        rec = record(ev, self.mask)
        if rec is not None:
            self.write(rec)

    def write(self, rec: dict[str, Any]) -> None:
        """Append one line; a log that cannot be written must never stop the engine."""
        line = (json.dumps(rec, sort_keys=True, default=str) + "\n").encode()
        try:
            with self._lock, _locked(self.path.with_suffix(".lock")):
                self._rotate_if_full(len(line))
                fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, _after_torn_line(fd) + line)
                finally:
                    os.close(fd)
        except OSError:
            self.failed = True

    def _rotate_if_full(self, adding: int) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size + adding <= self.max_bytes:
            return
        for i in range(self.keep, 0, -1):
            older = self.path.with_name(f"{LOG_NAME}.{i}")
            newer = self.path.with_name(f"{LOG_NAME}.{i - 1}") if i > 1 else self.path
            if newer.exists():
                os.replace(newer, older)


def _after_torn_line(fd: int) -> bytes:
    """A newline when the file ends mid-line (a writer killed while writing), so that line alone
    is lost, not the next one too."""
    size = os.fstat(fd).st_size
    return b"\n" if size and os.pread(fd, 1, size - 1) != b"\n" else b""


class _locked:
    """``flock`` on ``path`` (created owner-only, with its directory) for the ``with`` block."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd = -1

    def __enter__(self) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(self.fd, fcntl.LOCK_EX)

    def __exit__(self, *exc: object) -> None:
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)


# -- reading ---------------------------------------------------------------------------------------

def files_oldest_first(root: Path, keep: int = KEEP) -> list[Path]:
    path = log_path(root)
    rotated = [path.with_name(f"{LOG_NAME}.{i}") for i in range(keep, 0, -1)]
    return [p for p in (*rotated, path) if p.exists()]


def parse_line(line: str) -> dict[str, Any] | None:
    """A record as ``record`` writes it, or None: a line cut by a crash mid-write, or one edited
    by hand into another shape (a ``ts`` that is not a time, ``tenants`` that is not a list) is
    skipped, so no reader meets a value of the wrong type."""
    try:
        rec = json.loads(line)
    except ValueError:
        return None
    if not isinstance(rec, dict) or not isinstance(rec.get("kind"), str):
        return None
    ts = rec.get("ts", 0)
    if isinstance(ts, bool) or not isinstance(ts, int | float) or not 0 <= ts <= MAX_TS:
        return None
    return {**rec, **_typed(rec)}


def _typed(rec: dict[str, Any]) -> dict[str, Any]:
    def strings(value: Any) -> list[str]:
        return [str(v) for v in value] if isinstance(value, list) else []

    cost = rec.get("cost_ms")
    return {"message": str(rec.get("message") or ""), "component": str(rec.get("component") or ""),
            "tenants": strings(rec.get("tenants")), "files": strings(rec.get("files")),
            "detail": strings(rec.get("detail")),
            "cost_ms": cost if isinstance(cost, int | float) and not isinstance(cost, bool) and math.isfinite(cost)
            else None}


def matches(rec: dict[str, Any], tenants: set[str], since: float | None) -> bool:
    if since is not None and float(rec.get("ts") or 0) < since:
        return False
    return not tenants or bool(tenants & set(rec.get("tenants") or ()))


def read(root: Path, tenants: set[str] | None = None, since: float | None = None) -> list[dict[str, Any]]:
    """Every kept record, oldest first, for ``tenants`` (any) since ``since`` (epoch seconds).
    A log file that is a FIFO, a device or a directory is a ``DevenvError``, never a blocking read."""
    out: list[dict[str, Any]] = []
    for path in files_oldest_first(root):
        text = read_bytes(path, READ_MAX, str(path)).decode("utf-8", errors="replace")
        out += [r for line in text.splitlines() if (r := parse_line(line)) and matches(r, tenants or set(), since)]
    return out


def follow(root: Path, tenants: set[str] | None = None, poll: float = 0.2,
           stop: Callable[[], bool] = lambda: False) -> Iterator[dict[str, Any]]:
    """Records appended from now on (across rotations) until ``stop()``."""
    path = log_path(root)
    pos, ino = _end_of(path)
    while not stop():
        cur = _inode(path)
        if cur != ino:  # rotated (or created): read the new file from its start
            pos, ino = 0, cur
        if cur is not None and path.stat().st_size > pos:
            with path.open("rb") as f:
                f.seek(pos)
                chunk = f.read()
            complete = chunk[: chunk.rfind(b"\n") + 1]  # a half-written last line waits
            pos += len(complete)
            for line in complete.decode("utf-8", "replace").splitlines():
                rec = parse_line(line)
                if rec and matches(rec, tenants or set(), None):
                    yield rec
        else:
            time.sleep(poll)


def _end_of(path: Path) -> tuple[int, int | None]:
    try:
        st = path.stat()
    except FileNotFoundError:
        return 0, None
    return st.st_size, st.st_ino


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except FileNotFoundError:
        return None


def history(root: Path, n: int = HISTORY) -> tuple[Timeline, ...]:
    """The last ``n`` logged timeline entries, as events (a new session shows recent history)."""
    try:
        recs = read(root)[-n:]
    except (OSError, DevenvError):
        return ()
    return tuple(_as_timeline(r) for r in recs)


def _as_timeline(rec: dict[str, Any]) -> Timeline:
    kind = rec.get("kind")
    return Timeline(kind=kind if kind in _KINDS else "fail", message=str(rec.get("message", "")),
                    component=str(rec.get("component") or ""), tenants=tuple(rec.get("tenants") or ()),
                    cost_ms=rec.get("cost_ms"), detail=tuple(rec.get("detail") or ()),
                    files=tuple(rec.get("files") or ()), ts=float(rec.get("ts") or 0))


_KINDS = ("sync", "rebuild", "restart", "redeploy", "build", "up", "down", "fail", "info", "warn")
