"""Which changed paths the watch layer never acts on, and why.

Two kinds of noise are filtered:

* ``noise_reason``: files no build or container should ever see change for: editor swap, backup
  and temp files, VCS metadata, bytecode caches. Saving in vim alone touches ``4913``, ``file~``
  and ``.file.swp``; reacting to those would mean three spurious syncs per save.
* ``.dockerignore``: a file the image's build context excludes cannot change the image, so it
  neither syncs nor rebuilds. ``DockerIgnore`` reads a context's ``.dockerignore`` with Docker's
  semantics (last matching pattern wins, ``!`` re-includes, a pattern matching a directory
  excludes everything under it, ``**`` spans directories).

The watch layer depends only on the ``IsIgnored`` callable shape, so the builder's own matcher
(``devenv.build.dockerignore``) can be plugged in where it exists.
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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
        return "editor temp file"
    if name.endswith((".pyc", ".pyo")):
        return "Python bytecode cache"
    return None


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    negated: bool


def _translate(pattern: str) -> re.Pattern[str]:
    """A .dockerignore pattern as a regex over a POSIX relative path (Go ``filepath.Match`` plus
    ``**``: ``*`` and ``?`` stay within one path segment, ``**`` spans any number of them)."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if i < n and pattern[i] == "/":
                out.append("(?:.*/)?")  # "**/" also matches zero directories
                i += 1
            else:
                out.append(".*")
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(c))
            else:
                body = pattern[i + 1:end].replace("\\", "\\\\")
                out.append("[" + ("^" + body[1:] if body.startswith(("!", "^")) else body) + "]")
                i = end
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def _clean(pattern: str) -> str:
    """Docker cleans each pattern like a path: no leading or trailing slash, no ``./``."""
    cleaned = os.path.normpath(pattern.strip()).replace(os.sep, "/").lstrip("/")
    return "" if cleaned == "." else cleaned


def parse_dockerignore(text: str) -> list[tuple[str, bool]]:
    """``(pattern, negated)`` pairs in file order; comments and blank lines dropped."""
    result: list[tuple[str, bool]] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = _clean(line[1:] if negated else line)
        if pattern:
            result.append((pattern, negated))
    return result


class DockerIgnore:
    """The exclusion rules of one build context.

    Docker excludes a path when the last pattern that matches it, or matches one of its parent
    directories, is not a ``!`` pattern. ``prunable`` lets walkers skip a whole excluded directory,
    which is only safe when no ``!`` pattern could re-include something inside it.
    """

    def __init__(self, patterns: list[tuple[str, bool]]) -> None:
        self._patterns = [_Pattern(_translate(p), neg) for p, neg in patterns]
        self.has_negations = any(p.negated for p in self._patterns)

    @classmethod
    def load(cls, context: Path) -> DockerIgnore:
        """Read ``context/.dockerignore``; a missing or unreadable file excludes nothing."""
        try:
            text = (context / ".dockerignore").read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        return cls(parse_dockerignore(text))

    def excludes(self, relpath: str) -> bool:
        if not self._patterns:
            return False
        candidates = _self_and_parents(relpath)
        excluded = False
        for pat in self._patterns:
            if any(pat.regex.match(c) for c in candidates):
                excluded = not pat.negated
        return excluded

    def prunable(self, reldir: str) -> bool:
        return not self.has_negations and self.excludes(reldir)


def _self_and_parents(relpath: str) -> list[str]:
    parts = relpath.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


class DockerIgnoreCache:
    """``IsIgnored`` over many contexts, reading each ``.dockerignore`` once.

    The cache is keyed on the file's mtime and size, so an edited ``.dockerignore`` takes effect
    on the next batch without anyone having to invalidate anything. Thread-safe: the watcher's
    observer thread and the engine's planner may both call it.
    """

    # TODO: delegate to devenv.build.dockerignore once the builder's matcher lands, so the watcher
    # and the content digest can never disagree about what the context contains.

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cache: dict[Path, tuple[tuple[int, int] | None, DockerIgnore]] = {}

    def matcher(self, context: Path) -> DockerIgnore:
        stamp = _stamp(context / ".dockerignore")
        with self._lock:
            hit = self._cache.get(context)
            if hit is not None and hit[0] == stamp:
                return hit[1]
        rules = DockerIgnore.load(context)
        with self._lock:
            self._cache[context] = (stamp, rules)
        return rules

    def __call__(self, context: Path, relpath: str) -> bool:
        return self.matcher(context).excludes(relpath)

    def prunable(self, context: Path, reldir: str) -> bool:
        return self.matcher(context).prunable(reldir)


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
