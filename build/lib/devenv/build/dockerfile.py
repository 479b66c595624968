"""A small Dockerfile reader: instructions with their line numbers, ``FROM`` references, ``ARG``
substitution. The graph needs the external base images, the builder maps "Step N" back to a line,
and the linter needs the instructions; none of them needs a full parser.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_VAR = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?::?([-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))")


@dataclass(frozen=True)
class Instruction:
    """One instruction; ``line`` is where it starts (1-based), ``args`` has continuations joined."""

    line: int
    keyword: str
    args: str

    @property
    def flags(self) -> dict[str, str]:
        """Leading ``--name=value`` flags (``--from``, ``--platform``, ``--chown``...)."""
        out: dict[str, str] = {}
        for word in self.args.split():
            if not word.startswith("--"):
                break
            name, _, value = word[2:].partition("=")
            out[name.lower()] = value
        return out

    @property
    def operands(self) -> list[str]:
        """The words after the flags."""
        words = self.args.split()
        while words and words[0].startswith("--"):
            words.pop(0)
        return words


def parse(text: str) -> list[Instruction]:
    """Instructions in order. Comments and blank lines inside a continued instruction are skipped,
    as Docker does; the escape character follows the ``# escape=`` directive."""
    escape = "\\"
    lines = text.splitlines()
    for raw in lines:
        m = _DIRECTIVE.match(raw.strip())
        if not m:
            break
        if m.group(1).lower() == "escape":
            escape = m.group(2)[:1] or "\\"
    out: list[Instruction] = []
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        start, parts = i + 1, []
        while True:
            cur = lines[i].rstrip()
            cont = cur.endswith(escape)
            parts.append(cur[:-1] if cont else cur)
            i += 1
            if not cont:
                break
            while i < len(lines) and (not lines[i].strip() or lines[i].strip().startswith("#")):
                i += 1
            if i >= len(lines):
                break
        joined = " ".join(p.strip() for p in parts).strip()
        keyword, _, args = joined.partition(" ")
        out.append(Instruction(start, keyword.upper(), args.strip()))
    return out


MAX_BYTES = 1024 * 1024


def read_source(path: Path) -> str:
    """The Dockerfile's text, bounded and non-blocking (a FIFO or device is refused with a
    ``DevenvError`` naming it, never read)."""
    from devenv.fsutil import read_text

    return read_text(Path(path), MAX_BYTES)


def read(path: Path) -> list[Instruction]:
    return parse(read_source(path))


def substitute(value: str, env: dict[str, str]) -> str:
    """``$X``, ``${X}``, ``${X:-default}`` and ``${X:+alt}`` as the Dockerfile defines them."""

    def repl(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(4)
        val = env.get(name, "")
        if m.group(2) == "-":
            return val or m.group(3)
        if m.group(2) == "+":
            return m.group(3) if val else ""
        return val

    return _VAR.sub(repl, value)


def meta_args(instructions: list[Instruction], build_args: dict[str, str]) -> dict[str, str]:
    """The values of the ``ARG``s declared before the first ``FROM`` (what ``FROM`` lines may use):
    the build arg if given, else the declared default."""
    env: dict[str, str] = {}
    for ins in instructions:
        if ins.keyword == "FROM":
            break
        if ins.keyword == "ARG":
            for word in ins.operands:
                name, eq, default = word.partition("=")
                if name in build_args:
                    env[name] = build_args[name]
                elif eq:
                    env[name] = substitute(default.strip("\"'"), env)
    return env


@dataclass(frozen=True)
class FromRef:
    """A ``FROM`` (or ``COPY --from``) reference; ``raw`` as written, ``ref`` after substitution."""

    line: int
    raw: str
    ref: str
    stage: str | None  # the ``AS`` name a FROM gives its stage


def from_refs(instructions: list[Instruction], build_args: dict[str, str]) -> list[FromRef]:
    """Every ``FROM`` of the file, in order, with ARGs substituted."""
    env = meta_args(instructions, build_args)
    out: list[FromRef] = []
    for ins in instructions:
        if ins.keyword != "FROM" or not ins.operands:
            continue
        ops = ins.operands
        stage = ops[2] if len(ops) >= 3 and ops[1].lower() == "as" else None
        out.append(FromRef(ins.line, ops[0], substitute(ops[0], env), stage))
    return out


def external_images(instructions: list[Instruction], build_args: dict[str, str]) -> list[str]:
    """Images the build pulls from outside the Dockerfile: ``FROM`` and ``COPY --from`` references
    that are not stage names, stage indexes or ``scratch``; sorted, without duplicates."""
    froms = from_refs(instructions, build_args)
    stages = {f.stage.lower() for f in froms if f.stage}
    refs = [f.ref for f in froms]
    env = meta_args(instructions, build_args)
    for ins in instructions:
        if ins.keyword in ("COPY", "ADD") and "from" in ins.flags:
            refs.append(substitute(ins.flags["from"], env))
    return sorted({r for r in refs if r and r.lower() not in stages and r != "scratch" and not r.isdigit()})
