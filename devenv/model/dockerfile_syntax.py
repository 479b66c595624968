"""Dockerfile syntax, checked by BuildKit's own parser before any build.

The ``dockerfile`` package wraps the Go parser that ``docker build`` and BuildKit use (the official
grammar: line continuations, the ``escape`` directive, heredocs, JSON forms), so a file it accepts
is split exactly as the engine will split it. On top of the parse this module checks what the
engine would refuse only after sending the context: no ``FROM`` (or an instruction before it),
unknown instructions, JSON forms that are not JSON, ``COPY``/``ADD`` sources outside the context,
``--from`` naming a stage that does not exist (yet), and duplicate stage names. ``validate`` and
``lint`` both report these with the Dockerfile's line; it lives in ``model`` so validation (which
may not import ``build``) can use it.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from difflib import get_close_matches
from typing import Any

INSTRUCTIONS = ("ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
                "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR")
JSON_FORMS = ("ADD", "CMD", "COPY", "ENTRYPOINT", "RUN", "SHELL", "VOLUME")
_REMOTE = ("http://", "https://", "git@", "git://")
# BuildKit's instructions.Parse: how many arguments each takes ("at least" / "exactly").
AT_LEAST = {"ADD": 2, "COPY": 2, "ENV": 1, "LABEL": 1, "EXPOSE": 1, "VOLUME": 1, "ARG": 1, "HEALTHCHECK": 1}
EXACTLY = {"USER": 1, "WORKDIR": 1, "STOPSIGNAL": 1}
NOT_TRIGGERS = ("ONBUILD", "FROM", "MAINTAINER")
FLAGS = {"FROM": {"platform"}, "COPY": {"from", "chown", "chmod", "link", "parents", "exclude"},
         "ADD": {"chown", "chmod", "link", "keep-git-dir", "checksum", "exclude", "unpack"},
         "RUN": {"mount", "network", "security", "device"},
         "HEALTHCHECK": {"interval", "timeout", "start-period", "start-interval", "retries"}}
GO_DURATION = re.compile(r"^(0|([0-9]+(\.[0-9]*)?|\.[0-9]+)(ns|us|µs|ms|s|m|h))+$")
PORT = re.compile(r"^[0-9]+(-[0-9]+)?(/(tcp|udp|sctp))?$", re.IGNORECASE)
VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")
PLATFORM_ARGS = {f"{w}{p}" for w in ("TARGET", "BUILD") for p in ("PLATFORM", "OS", "ARCH", "VARIANT")}


@dataclass(frozen=True)
class Issue:
    """One syntax finding: the Dockerfile line, a rule name, what is wrong and the fix."""

    line: int | None
    rule: str
    message: str
    fix: str
    severity: str = "error"


@dataclass(frozen=True)
class _Stage:
    index: int
    name: str | None
    line: int


def parse(text: str) -> tuple[Any, ...]:
    """BuildKit's parse of ``text`` (``dockerfile.Command`` tuples); raises ``ValueError``."""
    import dockerfile

    try:  # a lone line continuation at the end gives a command without a name: nothing to run
        return tuple(c for c in dockerfile.parse_string(text) if isinstance(c.cmd, str))
    except dockerfile.GoParseError as exc:
        raise ValueError(str(exc)) from None


def check(text: str) -> list[Issue]:
    """Every syntax issue of a Dockerfile's text, in line order."""
    if "\x00" in text:
        return [Issue(None, "binary", "the Dockerfile holds NUL bytes (a binary file?)", "point at a text Dockerfile")]
    try:
        commands = parse(text)
    except ImportError:  # an environment installed before the dependency: say so, check nothing
        return [Issue(None, "parser-missing", "the `dockerfile` package (BuildKit's parser) is not installed; "
                      "Dockerfile syntax was not checked", "pip install -e . (or reinstall devenv)", "warning")]
    except ValueError as exc:
        msg = str(exc)
        if "no instructions" in msg:
            return [Issue(None, "no-from", "the Dockerfile has no instructions", "start it with `FROM <image>`")]
        return [Issue(None, "parse", f"BuildKit cannot parse the Dockerfile: {msg}", "fix the syntax")]
    out: list[Issue] = []
    out += _from_first(commands)
    stages: list[_Stage] = []
    global_args = _global_args(commands)
    for cmd in commands:
        out += _unknown(cmd) + _json_form(cmd) + _arity(cmd) + _flags(cmd)
        word = cmd.cmd.upper()
        if word == "FROM":
            out += _from(cmd, stages) + _from_variables(cmd, global_args)
        elif word in ("COPY", "ADD"):
            out += _copy(cmd, stages)
        elif word == "HEALTHCHECK":
            out += _healthcheck(cmd)
        elif word == "EXPOSE":
            out += _expose(cmd)
    return sorted(out, key=lambda i: i.line or 0)


def stage_names(text: str) -> list[str]:
    """The ``AS`` names of the stages, in order (empty when the text does not parse)."""
    try:
        commands = parse(text)
    except ValueError:
        return []
    return [c.value[2] for c in commands if c.cmd.upper() == "FROM" and len(c.value) >= 3
            and c.value[1].lower() == "as"]


def _from_first(commands: tuple[Any, ...]) -> list[Issue]:
    for cmd in commands:
        word = cmd.cmd.upper()
        if word == "FROM":
            return []
        if word != "ARG":
            return [Issue(cmd.start_line, "no-from", f"`{word}` comes before any FROM",
                          "start the Dockerfile with `FROM <image>` (only ARG may come before it)")]
    line = commands[0].start_line if commands else None
    return [Issue(line, "no-from", "the Dockerfile has no FROM instruction", "add `FROM <image>` at the top")]


def _arity(cmd: Any) -> list[Issue]:
    """Argument counts BuildKit refuses (``COPY a``, ``ENV``, ``USER a b``), and ``ONBUILD`` of
    an instruction that cannot be a trigger."""
    word, sub = cmd.cmd.upper(), (cmd.sub_cmd or "").upper()
    if word == "ONBUILD" and sub in NOT_TRIGGERS:
        return [Issue(cmd.start_line, "onbuild", f"{sub} isn't allowed as an ONBUILD trigger",
                      "remove the line (ONBUILD takes RUN, COPY, ENV, ...)")]
    count = len([v for v in cmd.value if v])
    if word in AT_LEAST and count < AT_LEAST[word]:
        need = "at least two arguments" if AT_LEAST[word] == 2 else "at least one argument"
        return [Issue(cmd.start_line, "arguments", f"{word} requires {need}", f"complete the `{word}` line")]
    if word in EXACTLY and count != EXACTLY[word]:
        return [Issue(cmd.start_line, "arguments", f"{word} requires exactly one argument",
                      f"write `{word} <value>` (quote a value with spaces)")]
    return []


def _flags(cmd: Any) -> list[Issue]:
    """A flag BuildKit does not know for the instruction (``COPY --frm=x``). A warning: a newer
    BuildKit may know it."""
    word = cmd.cmd.upper()
    known = FLAGS.get(word)
    if known is None:
        return []
    out = []
    for flag in cmd.flags:
        name = flag.lstrip("-").partition("=")[0].lower()
        if name not in known:
            guess = get_close_matches(name, sorted(known), n=1)
            hint = f"did you mean --{guess[0]}?" if guess else f"{word} takes --{', --'.join(sorted(known))}"
            out.append(Issue(cmd.start_line, "unknown-flag", f"unknown flag {flag.partition('=')[0]} for {word}",
                             hint, "warning"))
    return out


def _healthcheck(cmd: Any) -> list[Issue]:
    values = [v for v in cmd.value if v]
    kind = values[0].upper() if values else ""
    if values and kind not in ("CMD", "NONE"):
        return [Issue(cmd.start_line, "healthcheck", f"unknown type {values[0]!r} in HEALTHCHECK",
                      "write HEALTHCHECK [OPTIONS] CMD command, or HEALTHCHECK NONE")]
    out = []
    for flag in cmd.flags:
        name, _, value = flag.lstrip("-").partition("=")
        name = name.lower()
        bad = (name == "retries" and not value.isdigit()) or (
            name != "retries" and name in FLAGS["HEALTHCHECK"] and not GO_DURATION.match(value))
        if bad and "$" not in value:
            out.append(Issue(cmd.start_line, "healthcheck", f"HEALTHCHECK --{name}={value!r} is not "
                             + ("a whole number" if name == "retries" else "a duration"),
                             "durations like 30s, 1m30s, 500ms; --retries=3"))
    return out


def _expose(cmd: Any) -> list[Issue]:
    bad = [v for v in cmd.value if v and "$" not in v and not PORT.match(v)]
    if not bad:
        return []
    return [Issue(cmd.start_line, "expose", f"EXPOSE {bad[0]!r} is not a port", "e.g. EXPOSE 8000 or EXPOSE 53/udp")]


def _global_args(commands: tuple[Any, ...]) -> set[str]:
    """The ARG names declared before the first FROM (the only ones a FROM line can use)."""
    names: set[str] = set()
    for cmd in commands:
        if cmd.cmd.upper() != "ARG":
            break
        names |= {v.partition("=")[0] for v in cmd.value if v}
    return names


def _from_variables(cmd: Any, declared: set[str]) -> list[Issue]:
    """``FROM $IMAGE`` with no ``ARG IMAGE`` above the first FROM expands to nothing: BuildKit
    refuses the build ("base name should not be blank"). ``${X:-default}`` is fine."""
    image = next((v for v in cmd.value if v), "")
    for m in VARIABLE.finditer(image):
        name = m.group(1) or m.group(2)
        if name not in declared and name not in PLATFORM_ARGS:
            return [Issue(cmd.start_line, "from-variable", f"FROM uses ${name}, which no ARG before the first FROM "
                          "declares: it expands to nothing", f"add `ARG {name}=<image>` at the top of the Dockerfile")]
    return []


def _unknown(cmd: Any) -> list[Issue]:
    word = cmd.cmd.upper()
    if word in INSTRUCTIONS:
        return []
    guess = get_close_matches(word, INSTRUCTIONS, n=1)
    hint = f"did you mean `{guess[0]}`?" if guess else f"use one of {', '.join(INSTRUCTIONS)}"
    return [Issue(cmd.start_line, "unknown-instruction", f"unknown instruction `{cmd.cmd}`", hint)]


def _json_form(cmd: Any) -> list[Issue]:
    """``CMD ["a", "b"`` is not JSON: Docker silently runs it through ``/bin/sh -c`` instead."""
    word = cmd.cmd.upper()
    if word not in JSON_FORMS or cmd.json:
        return []
    rest = " ".join(v for v in cmd.value if v)
    if word == "SHELL":
        return [Issue(cmd.start_line, "broken-json", "SHELL needs the JSON form", 'write it as SHELL ["/bin/sh", "-c"]')]
    if not rest.lstrip().startswith("["):
        return []
    try:
        json.loads(rest)
    except json.JSONDecodeError as exc:
        return [Issue(cmd.start_line, "broken-json", f"`{word}` looks like the JSON form but is not JSON ({exc.msg}); "
                      "Docker would run it as a shell command", 'use double quotes and commas: ["a", "b"]')]
    return []


def _from(cmd: Any, stages: list[_Stage]) -> list[Issue]:
    value = [v for v in cmd.value if v]
    if not value:
        stages.append(_Stage(len(stages), None, cmd.start_line))
        return [Issue(cmd.start_line, "no-from", "FROM names no image", "write `FROM <image>[:tag] [AS name]`")]
    name = value[2].lower() if len(value) >= 3 and value[1].lower() == "as" else None
    out: list[Issue] = []
    if len(value) == 2 or (len(value) > 1 and value[1].lower() != "as") or len(value) > 3:
        out.append(Issue(cmd.start_line, "from-syntax", "FROM takes an image and an optional `AS name`",
                         "write `FROM <image>[:tag] [AS name]`"))
    twice = next((s for s in stages if name and s.name == name), None)
    if twice is not None:
        out.append(Issue(cmd.start_line, "duplicate-stage", f"stage name '{name}' is already used on line {twice.line}",
                         "give each stage its own name"))
    stages.append(_Stage(len(stages), name, cmd.start_line))
    return out


def _flag(cmd: Any, name: str) -> str | None:
    for f in cmd.flags:
        key, _, value = f.lstrip("-").partition("=")
        if key.lower() == name:
            return str(value)
    return None


def _copy(cmd: Any, stages: list[_Stage]) -> list[Issue]:
    source = _flag(cmd, "from")
    if source is not None:
        return _copy_from(cmd, source, stages)
    values = [v for v in cmd.value if v]
    if len(values) < 2:
        return []
    out = []
    for src in values[:-1]:
        if src.startswith(_REMOTE) or "$" in src or (cmd.heredocs and src.startswith("<<")):
            continue  # a heredoc source is written inline; the files beside it still come from the context
        norm = posixpath.normpath(src.lstrip("/") or ".")
        if norm == ".." or norm.startswith("../"):
            out.append(Issue(cmd.start_line, "outside-context", f"`{cmd.cmd.upper()} {src}` reaches outside the build "
                             "context; the engine only has the context's files", "move the file into the context, "
                             "or widen `context:` in devenv.yaml"))
    return out


def _copy_from(cmd: Any, source: str, stages: list[_Stage]) -> list[Issue]:
    if "$" in source:
        return []
    if source.isdigit():  # the current stage's index is len(stages) - 1
        if int(source) < len(stages) - 1:
            return []
        return [Issue(cmd.start_line, "unknown-stage", f"--from={source}: no earlier stage has index {source}",
                      "use the index (or the AS name) of a stage above this one")]
    name = source.lower()
    if any(s.name == name for s in stages[:-1]):
        return []
    if stages and stages[-1].name == name:
        return [Issue(cmd.start_line, "unknown-stage", f"--from={source} names the stage it is in",
                      "copy from an earlier stage")]
    if not any(c in source for c in ":/@."):
        return [Issue(cmd.start_line, "unknown-stage", f"--from={source}: no stage named '{source}' above this line; "
                      f"Docker would pull an image called '{source}'", "name an earlier stage (FROM ... AS "
                      f"{source}), or write the image with its tag", "warning")]
    return []
