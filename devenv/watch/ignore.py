"""Which changed paths the watch layer never acts on, and why.

Two kinds of noise are filtered:

* ``noise_reason``: files no build or container should ever see change for: editor swap, backup
  and temp files, VCS metadata, bytecode caches. Saving in vim alone touches ``4913``, ``file~``
  and ``.file.swp``; reacting to those would mean three spurious syncs per save.
* ``.dockerignore``: a file the image's build context excludes cannot change the image, so it
  neither syncs nor rebuilds. ``DockerIgnoreCache`` answers with the builder's own matcher
  (``devenv.build.dockerignore.Matcher``), so the watcher and the content digest never disagree
  about what a context contains.

The rest of the watch layer depends only on the ``IsIgnored`` callable shape.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from devenv.build.dockerignore import Matcher
from devenv.errors import DevenvError
from devenv.walk import walk

IsIgnored = Callable[[Path, str], bool]
"""``is_ignored(context, relpath)``: ``relpath`` is POSIX, relative to the image's ``context``."""

NOISE_DIRS = {".git": "version control metadata", ".hg": "version control metadata",
              ".svn": "version control metadata", "__pycache__": "Python bytecode cache",
              ".mypy_cache": "tool cache", ".pytest_cache": "tool cache", ".ruff_cache": "tool cache",
              ".idea": "IDE metadata"}
_SWAP = re.compile(r"\.sw[a-px]$")  # vim: .swp, .swo, ... and .swx (its probe file)
_JETBRAINS = ("___jb_tmp___", "___jb_old___")


def noise_reason(relpath: str) -> str | None:
    """Why ``relpath`` is editor/tool noise, or ``None`` if it is a real file worth acting on."""
    parts = relpath.split("/")
    for part in parts[:-1]:
        if part in NOISE_DIRS:
            return NOISE_DIRS[part]
    name = parts[-1]
    if name in NOISE_DIRS:
        return NOISE_DIRS[name]
    return _file_noise(name)


def _file_noise(name: str) -> str | None:
    """Editors save through helper files; each check names the editor habit it filters."""
    if _SWAP.search(name) or name.endswith("~") or name == "4913":
        return "editor temp file"  # vim swap/backup files, vim's write-permission probe
    if name.startswith(".#") or (name.startswith("#") and name.endswith("#")):
        return "editor temp file"  # emacs lock and autosave files
    if name.endswith(".tmp") or name.startswith(".goutputstream-") or name.endswith(_JETBRAINS):
        return "editor temp file"  # generic, gedit and JetBrains safe-write temp files
    if name == ".DS_Store":
        return "Finder metadata file"  # macOS Finder writes it into every folder it opens
    if name.endswith((".pyc", ".pyo")):
        return "Python bytecode cache"
    return None


class DockerIgnoreCache:
    """``IsIgnored`` over many contexts, reading each ``.dockerignore`` once.

    It is asked for every file event, so it must not touch the disk each time: the file's mtime
    and size are re-checked at most every ``recheck`` seconds, and ``invalidate`` (which the
    watcher calls when it sees a ``.dockerignore`` change) makes an edit effective at once.
    Thread-safe: the watcher's observer thread and the engine's planner may share one.
    """

    def __init__(self, recheck: float = 1.0) -> None:
        self._recheck = recheck
        self._lock = threading.Lock()
        self._cache: dict[Path, tuple[float, tuple[int, int] | None, Matcher]] = {}
        self._memo: dict[tuple[Path, str], bool] = {}

    def matcher(self, context: Path) -> Matcher:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(context)
        if hit is not None and now - hit[0] < self._recheck:
            return hit[2]
        stamp = _stamp(context / ".dockerignore")
        if hit is not None and hit[1] == stamp:
            rules = hit[2]
        else:
            rules = _load(context)
            self._forget(context)
        with self._lock:
            self._cache[context] = (now, stamp, rules)
        return rules

    def invalidate(self, context: Path | None = None) -> None:
        """Forget ``context``'s rules (or every context's): the next question re-reads them."""
        with self._lock:
            if context is None:
                self._cache.clear()
            else:
                self._cache.pop(context, None)
        self._forget(context)

    def __call__(self, context: Path, relpath: str) -> bool:
        rules = self.matcher(context)
        key = (context, relpath)
        with self._lock:
            known = self._memo.get(key)
        if known is None:
            known = rules.excluded(relpath)
            with self._lock:
                if len(self._memo) > 100_000:  # bounded: a long session touches many paths
                    self._memo.clear()
                self._memo[key] = known
        return known

    def prunable(self, context: Path, reldir: str) -> bool:
        """A walker may skip ``reldir`` whole only if no ``!`` exception could re-include a file
        below it."""
        rules = self.matcher(context)
        return not rules.has_exceptions and rules.excluded(reldir)

    def _forget(self, context: Path | None) -> None:
        with self._lock:
            if context is None:
                self._memo.clear()
            else:
                self._memo = {k: v for k, v in self._memo.items() if k[0] != context}


def _load(context: Path) -> Matcher:
    try:
        return Matcher.from_context(context)
    except (OSError, DevenvError):  # unreadable or invalid .dockerignore (the build says which line):
        return Matcher([])  # exclude nothing rather than crash the watcher


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size


def default_is_ignored() -> IsIgnored:
    """The ``.dockerignore`` matcher the watch layer uses unless told otherwise."""
    return DockerIgnoreCache()


def never_ignored(context: Path, relpath: str) -> bool:
    """An ``IsIgnored`` that excludes nothing (tests, and contexts without .dockerignore)."""
    return False


def walk_tree(root: Path, prune: Callable[[str], bool]) -> Iterator[tuple[str, str, os.stat_result | None]]:
    """Yield ``(relpath, path, stat)`` for every directory (stat None) and non-noise file under
    ``root``, skipping the directories ``prune`` names: ``devenv.walk``, the walk the build digest
    uses too, so the watcher and the digest agree on what a context holds."""
    for rel, path, st in walk(root, prune):
        if st is None or noise_reason(rel) is None:
            yield rel, path, st
