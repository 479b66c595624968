"""Compose's variable interpolation and its ``.env`` file format.

Compose replaces ``$VAR`` and ``${VAR}`` in every value of the file with the project's
environment (the shell's variables over the ``.env`` file beside the compose file), with the
shell-like forms ``${VAR:-default}`` / ``${VAR-default}`` (default when unset or empty / unset),
``${VAR:?message}`` / ``${VAR?message}`` (an error), ``${VAR:+other}`` / ``${VAR+other}`` (``other``
when set), defaults that nest further ``${...}``, and ``$$`` for a literal ``$``. devenv does the
same once, at ``init``, and writes the results: the adopted project no longer depends on the shell
that ran ``init`` (a value taken from the shell is noted).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devenv.fsutil import read_bytes

NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
OPERATORS = (":-", ":?", ":+", "-", "?", "+")
MAX_DOTENV_BYTES = 1024 * 1024


class InterpolationError(ValueError):
    """A ``${VAR:?message}`` whose variable is unset, or a malformed ``${...}``."""


SENTINEL = re.compile("\x00devenv-credential-([0-9]+)\x00")


@dataclass
class Environment:
    """The variables interpolation reads: ``shell`` wins over ``dotenv`` as in compose.
    ``used_shell`` collects the names whose value came from the shell (init notes them).

    While ``credential`` is set (a test of a variable's name and value), a credential variable
    interpolates as a sentinel instead of its value: the caller sees where a secret landed (a
    ``command:`` argument, a health test) and can write a ``${VAR}`` reference there instead;
    ``unmask`` gives the value compose would have used."""

    dotenv: dict[str, str] = field(default_factory=dict)
    shell: dict[str, str] = field(default_factory=dict)
    used_shell: set[str] = field(default_factory=set)
    unset: set[str] = field(default_factory=set)
    credential: Callable[[str, str], bool] | None = None
    masked: list[str] = field(default_factory=list)  # sentinel number -> variable name

    def get(self, name: str) -> str | None:
        value = self.value(name)
        if value and self.credential is not None and self.credential(name, value):
            return self.sentinel(name)
        return value

    def value(self, name: str) -> str | None:
        """The variable's value, never masked."""
        if name in self.shell:
            if self.dotenv.get(name) != self.shell[name]:
                self.used_shell.add(name)
            return self.shell[name]
        return self.dotenv.get(name)

    def sentinel(self, name: str) -> str:
        if name not in self.masked:
            self.masked.append(name)
        return f"\x00devenv-credential-{self.masked.index(name)}\x00"

    def unmask(self, text: str) -> str:
        """``text`` with every sentinel replaced by its variable's value."""
        return SENTINEL.sub(lambda m: self.value(self.masked[int(m.group(1))]) or "", text)

    def names_in(self, text: str) -> list[str]:
        """The credential variables whose sentinels are in ``text``, in order, once each."""
        return list(dict.fromkeys(self.masked[int(n)] for n in SENTINEL.findall(text)))


def interpolate(text: str, env: Environment) -> str:
    """``text`` with every reference replaced; raises ``InterpolationError``."""
    out, i = [], 0
    while i < len(text):
        j = text.find("$", i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        value, i = _reference(text, j, env)
        out.append(value)
    return "".join(out)


def _reference(text: str, at: int, env: Environment) -> tuple[str, int]:
    """The value of the reference starting at ``text[at] == '$'`` and where the text resumes."""
    nxt = text[at + 1: at + 2]
    if nxt == "$":
        return "$", at + 2
    if nxt == "{":
        end = _closing_brace(text, at + 2)
        return _braced(text[at + 2: end], env), end + 1
    match = NAME.match(text, at + 1)
    if match is None:
        return "$", at + 1  # a lone '$' (compose refuses it; keeping it is kinder)
    return _lookup(match.group(), env), match.end()


def _closing_brace(text: str, start: int) -> int:
    depth = 1
    for k in range(start, len(text)):
        if text[k] == "{" and text[k - 1] == "$":
            depth += 1
        elif text[k] == "}":
            depth -= 1
            if depth == 0:
                return k
    raise InterpolationError(f"'${{' without a closing '}}' in {text!r}")


def _lookup(name: str, env: Environment) -> str:
    value = env.get(name)
    if value is None:
        env.unset.add(name)
        return ""
    return value


def _braced(body: str, env: Environment) -> str:
    match = NAME.match(body)
    if match is None:
        raise InterpolationError(f"'${{{body}}}' is not a variable reference")
    name, rest = match.group(), body[match.end():]
    if not rest:
        return _lookup(name, env)
    op = next((o for o in OPERATORS if rest.startswith(o)), None)
    if op is None:
        raise InterpolationError(f"'${{{body}}}': unknown operator after {name}")
    arg = rest[len(op):]
    value = env.get(name)
    present = value is not None and (value != "" or ":" not in op)
    if op in (":-", "-"):
        return value if present and value is not None else interpolate(arg, env)
    if op in (":+", "+"):
        return interpolate(arg, env) if present else ""
    if not present or value is None:
        raise InterpolationError(f"variable {name} is required: {interpolate(arg, env) or 'it is not set'}")
    return value


# --- .env files -----------------------------------------------------------------------------------

def parse_dotenv(text: str, lines: dict[str, int] | None = None) -> tuple[dict[str, str], list[tuple[int, str]]]:
    """``KEY=VALUE`` lines (``export`` allowed, ``#`` comments, single quotes literal, double quotes
    with ``\\n`` escapes, inline `` #`` comments on unquoted values). Returns the values and the
    (line, problem) pairs of lines that are not assignments; ``lines`` (when given) receives each
    key's line, so a note about a value can name ``file:line``."""
    values: dict[str, str] = {}
    bad: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].lstrip()
        key, sep, value = line.partition("=")
        key = key.strip()
        if not NAME.fullmatch(key):
            bad.append((number, f"'{raw.strip()[:40]}' is not a KEY=VALUE line"))
            continue
        values[key] = _dotenv_value(value.strip()) if sep else ""
        if lines is not None:
            lines[key] = number
    return values, bad


def _dotenv_value(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1].replace("\\n", "\n").replace('\\"', '"')
    cut = value.find(" #")
    return (value[:cut] if cut >= 0 else value).rstrip()


def read_dotenv(path: Path, lines: dict[str, int] | None = None,
                shown: str | None = None) -> tuple[dict[str, str], list[tuple[int, str]]]:
    """A bounded read of an env file; raises ``DevenvError`` (missing, unreadable, or not a regular
    file: a FIFO is never opened for a blocking read) or ``UnicodeDecodeError``."""
    raw = read_bytes(path, MAX_DOTENV_BYTES, shown)
    if len(raw) > MAX_DOTENV_BYTES:
        return {}, [(1, f"larger than {MAX_DOTENV_BYTES // 1024} KiB: not an env file")]
    return parse_dotenv(raw.decode("utf-8"), lines)
