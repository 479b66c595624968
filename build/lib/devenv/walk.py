"""The one walk of a directory tree, shared by the build digest (``build.dockerignore``) and the
watcher (``watch.ignore``), so both see the same files of a build context.

One ``scandir`` + ``lstat`` per entry; symlinks are listed and never followed (a symlink loop
costs one entry); a directory reached twice (bind mounts) is walked once; directories the caller's
``prune`` names are skipped whole. Unreadable directories and vanished entries are skipped: a
context changing under the walk is normal while someone edits.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

Entry = tuple[str, str, "os.stat_result | None"]
"""``(relpath, path, lstat)``: ``lstat`` is None for a directory (the root's relpath is "")."""


def walk(root: Path | str, prune: Callable[[str], bool]) -> Iterator[Entry]:
    """Yield every directory (stat None) and every other entry under ``root``, depth first."""
    stack: list[tuple[str, str]] = [(str(root), "")]
    seen: set[tuple[int, int]] = set()
    while stack:
        top, rel = stack.pop()
        if _seen_before(top, seen):
            continue
        yield rel, top, None
        try:
            entries = list(os.scandir(top))
        except OSError:
            continue
        for entry in entries:
            sub = entry.name if not rel else f"{rel}/{entry.name}"
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if not stat.S_ISDIR(st.st_mode):
                yield sub, entry.path, st
            elif not prune(sub):
                stack.append((entry.path, sub))


def _seen_before(top: str, seen: set[tuple[int, int]]) -> bool:
    """Whether the directory ``top`` was walked already (a bind mount shows it twice)."""
    try:
        st = os.stat(top)
    except OSError:
        return False
    key = (st.st_dev, st.st_ino)
    if key in seen:
        return True
    seen.add(key)
    return False
