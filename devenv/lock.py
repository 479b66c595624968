"""A per-project lock so two ``devenv up`` never race to create the same containers."""

from __future__ import annotations

import fcntl
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devenv.errors import DevenvError
from devenv.fsutil import state_dir


@contextmanager
def project_lock(root: Path, what: str, wait: float = 120.0) -> Iterator[None]:
    """Hold ``.devenv/lock`` while building and deploying. A second holder waits up to ``wait``
    seconds (saying who it waits for), then refuses clearly."""
    path = state_dir(root) / "lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another devenv"
                if time.monotonic() > deadline:
                    raise DevenvError(f"another devenv is busy with this project ({holder})",
                                      "wait for it to finish, or stop it (Ctrl+C in its terminal)") from None
                if not told:
                    print(f"devenv: waiting for {holder} to finish ...", file=sys.stderr)
                    told = True
                time.sleep(0.2)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}: {what}".encode(), 0)
        yield
    finally:
        os.close(fd)
