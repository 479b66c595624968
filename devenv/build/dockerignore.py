"""``.dockerignore`` exactly as Docker reads it, and the list of files a build context sends.

Written from Docker's documented semantics (docs.docker.com, "dockerignore"): each line is trimmed,
``#`` lines are comments, ``!`` makes an exception, patterns are cleaned like Go's
``filepath.Clean`` with a leading ``/`` dropped, globs follow ``filepath.Match`` (``*`` and ``?``
never cross ``/``) plus ``**`` for any number of directories, a pattern that matches a directory
excludes everything under it, and the last matching line decides. The digest and the tar the
builder sends both come from ``context_files`` so what is hashed is exactly what is built.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from devenv.walk import walk

IGNORE_FILE = ".dockerignore"


@dataclass(frozen=True)
class Pattern:
    """One cleaned line of a ``.dockerignore``; ``exclusion`` is True for a ``!`` exception."""

    text: str
    exclusion: bool
    line: int = 0  # in the .dockerignore, for a message about a pattern Docker would refuse

    @cached_property
    def regex(self) -> re.Pattern[str]:
        return re.compile(glob_to_regex(self.text))

    def matches(self, path: str) -> bool:
        """Whether ``path`` or one of its parent directories matches (so ``dir`` covers ``dir/x``)."""
        if self.regex.match(path):
            return True
        parts = path.split("/")
        return any(self.regex.match("/".join(parts[:i])) for i in range(1, len(parts)))


def clean(path: str) -> str:
    """Go's ``filepath.Clean`` for ``/``-separated paths (``posixpath.normpath`` keeps ``//``)."""
    if not path:
        return "."
    rooted = path.startswith("/")
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out and out[-1] != "..":
                out.pop()
            elif not rooted:
                out.append("..")
            continue
        out.append(part)
    joined = "/".join(out)
    return ("/" + joined) if rooted else (joined or ".")


def parse_ignore(text: str) -> list[Pattern]:
    """The patterns of a ``.dockerignore`` text, in file order."""
    patterns: list[Pattern] = []
    for i, raw in enumerate(text.splitlines()):
        line = raw.lstrip("\ufeff") if i == 0 else raw
        if line.startswith("#"):
            continue
        line = line.strip()
        if not line:
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
        if line:
            line = clean(line)
            if len(line) > 1 and line.startswith("/"):
                line = line[1:]
        patterns.append(Pattern(line, exclusion, i + 1))
    return patterns


def glob_to_regex(pattern: str) -> str:
    """Translate one cleaned pattern into an anchored regular expression."""
    out = ["^"]
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "*":
            if i + 1 < n and pattern[i + 1] == "*":
                i += 2
                if i < n and pattern[i] == "/":
                    i += 1
                out.append(".*" if i >= n else "(.*/)?")
                continue
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        elif ch == "[":
            end, cls = _char_class(pattern, i)
            out.append(cls)
            i = end
            continue
        else:
            out.append(re.escape(ch))
        i += 1
    out.append("$")
    return "".join(out)


def _char_class(pattern: str, start: int) -> tuple[int, str]:
    """``[...]`` as in Go: ``^`` negates, ``\\`` escapes; an unterminated class is a literal ``[``."""
    i = start + 1
    body: list[str] = []
    if i < len(pattern) and pattern[i] == "^":
        body.append("^")
        i += 1
    while i < len(pattern) and pattern[i] != "]":
        if pattern[i] == "\\" and i + 1 < len(pattern):
            i += 1
            body.append(re.escape(pattern[i]))
        elif pattern[i] == "-":
            body.append("-")
        else:
            body.append(re.escape(pattern[i]))
        i += 1
    if i >= len(pattern):
        return start + 1, re.escape("[")
    return i + 1, "[" + "".join(body) + "]"


def checked(patterns: list[Pattern], file: Path) -> list[Pattern]:
    """``patterns``, each compiled once: one Go's ``filepath.Match`` refuses (``[]``, ``[z-a]``) is
    a ``DevenvError`` naming its line, as Docker fails the build ("syntax error in pattern")."""
    from devenv.errors import DevenvError

    for p in patterns:
        try:
            p.regex  # noqa: B018 (compiles and caches)
        except re.error as exc:
            raise DevenvError(f"{file}:{p.line}: {p.text!r} is not a valid .dockerignore pattern ({exc.msg})",
                              "fix the pattern: Docker refuses it too (syntax error in pattern)") from None
    return patterns


class Matcher:
    """Decides whether a context-relative path is excluded; the last matching pattern wins."""

    def __init__(self, patterns: list[Pattern]) -> None:
        self.patterns = [p for p in patterns if p.text not in ("", ".")]
        self.has_exceptions = any(p.exclusion for p in self.patterns)

    @classmethod
    def from_context(cls, context: Path) -> Matcher:
        from devenv.fsutil import read_text  # bounded, non-blocking: a FIFO here must not hang a build

        f = context / IGNORE_FILE
        if not (f.exists() or f.is_symlink()):
            return cls([])
        return cls(checked(parse_ignore(read_text(f, 4 * 1024 * 1024)), f))

    def excluded(self, path: str) -> bool:
        result = False
        for p in self.patterns:
            if p.matches(path):
                result = not p.exclusion
        return result


def _always_sent(context: Path, dockerfile: Path) -> set[str]:
    """Docker sends the Dockerfile (when it lies in the context) and ``.dockerignore`` whatever the
    patterns say, because the daemon needs them."""
    keep = {IGNORE_FILE}
    with contextlib.suppress(ValueError):
        keep.add(dockerfile.resolve().relative_to(context.resolve()).as_posix())
    return keep


def context_files(context: Path, dockerfile: Path) -> list[str]:
    """The regular files and symlinks a build of ``context`` sends, as sorted posix relative paths."""
    return [rel for rel, _ in context_entries(context, dockerfile)]


def context_entries(context: Path, dockerfile: Path) -> list[tuple[str, os.stat_result]]:
    """Like ``context_files`` with each file's ``lstat``, so the digest needs no second stat.

    Walked by ``devenv.walk`` (the watcher's walk too): symlinks are listed, never followed (Docker
    sends them as links), so a symlink loop cannot make the walk loop; a directory seen twice (bind
    mounts) is skipped."""
    matcher = Matcher.from_context(context)
    keep = _always_sent(context, dockerfile)

    def excluded(rel: str) -> bool:
        return matcher.excluded(rel) and rel not in keep

    def prune(rel: str) -> bool:
        return excluded(rel) and not matcher.has_exceptions and not any(k.startswith(rel + "/") for k in keep)

    found = [(rel, st) for rel, _path, st in walk(context, prune)
             if st is not None and (stat.S_ISREG(st.st_mode) or stat.S_ISLNK(st.st_mode)) and not excluded(rel)]
    found.sort(key=lambda e: e[0])
    return found
