"""Every lock devenv takes on a project's files, in one module.

* ``project_lock``: one ``up``/``watch``/TUI session (or other mutating command) per project, so
  two never race to create the same containers;
* ``wait_lock``: one build of an image at a time across processes (a watcher and a CLI run),
  given up when the build is cancelled;
* ``file_lock``: a short exclusive section around a read-modify-write of a state file.

All are ``flock`` locks on owner-only files under ``.devenv/`` (see ``devenv.layout``): the kernel
drops them when a process dies, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from devenv import layout
from devenv.errors import DevenvError
from devenv.fsutil import os_error, private_open


@contextmanager
def project_lock(root: Path, what: str, wait: float = 120.0) -> Iterator[None]:
    """Hold ``.devenv/lock`` while building and deploying. A second holder waits up to ``wait``
    seconds (saying who it waits for), then refuses clearly."""
    layout.ensure(root)
    path = layout.project_lock(root)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NONBLOCK, 0o600)
    except OSError as exc:
        raise os_error(exc, path, "open") from None
    try:
        _acquire_project(fd, time.monotonic() + wait)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}: {what}".encode(), 0)
        yield
    finally:
        os.close(fd)


def _acquire_project(fd: int, deadline: float) -> None:
    told = False
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another devenv"
            if time.monotonic() > deadline:
                raise DevenvError(f"another devenv is busy with this project ({holder})",
                                  "wait for it to finish, or stop it (Ctrl+C in its terminal)") from None
            if not told:
                print(f"devenv: waiting for {holder} to finish ...", file=sys.stderr)
                told = True
            time.sleep(0.2)


@contextmanager
def wait_lock(path: Path, cancel: threading.Event, cancelled: Callable[[], Exception]) -> Iterator[None]:
    """Hold ``path`` exclusively, polling every 0.2 s; raise ``cancelled()`` once ``cancel`` is set."""
    with private_open(path) as f:
        while True:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if cancel.wait(0.2):
                    raise cancelled() from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold ``path`` exclusively (blocking) for a short read-modify-write."""
    with private_open(path) as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)
