"""YAML loading that remembers where every key came from.

``load_yaml`` returns plain Python data plus a ``Positions`` map from dotted key paths to line
numbers, so every validation problem can name ``file:line: key``. It never raises on bad input: a
file that is not UTF-8, not YAML, too large or has duplicate keys yields ``Problem`` objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from devenv.errors import DevenvError, Problem
from devenv.fsutil import read_bytes

MAX_BYTES = 2 * 1024 * 1024  # a config file larger than this is a mistake, not a config
FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml composes ~100x faster
MAX_NODES = 50_000  # aliases can make a small file expand exponentially ("billion laughs")


def compose_loader() -> Any:
    """A loader typing plain scalars the way ``docker compose`` types them (go-yaml v3), not by
    YAML 1.1: only true/false are booleans (``FEATURE: on`` stays the string ``on``), and there are
    no base-60 numbers (``- 2222:22`` is a port mapping, not the number 133342). Made per call
    (microseconds, once per compose file) rather than at import."""
    return type("ComposeLoader", (FAST_LOADER,), {"yaml_implicit_resolvers": _compose_resolvers()})


def _compose_resolvers() -> dict[Any, list[tuple[str, Any]]]:
    """PyYAML's safe resolvers with go-yaml v3's booleans, ints (as Go's ParseInt with base 0 reads
    them once '_' is dropped) and floats (go-yaml's float pattern)."""
    import re

    replaced = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"}
    table = {first: [(tag, rx) for tag, rx in pairs if tag not in replaced]
             for first, pairs in FAST_LOADER.yaml_implicit_resolvers.items()}
    for tag, pattern, firsts in (
            ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
            ("tag:yaml.org,2002:int", r"^[-+]?(?:0b[0-1_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|0[0-7_]*|[1-9][0-9_]*)$",
             "-+0123456789"),
            ("tag:yaml.org,2002:float", r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
             r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$", "-+0123456789.")):
        for first in firsts:
            table.setdefault(first, []).append((tag, re.compile(pattern)))
    return table


KeyPath = tuple[str | int, ...]


def dotted(path: KeyPath) -> str:
    """``("components", "web", "ports", 0)`` -> ``components.web.ports[0]``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


@dataclass
class Positions:
    """Line numbers (1-based) of every key and list item of one document."""

    file: str
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line(self, path: KeyPath) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), None)

    def problem(self, path: KeyPath, message: str, hint: str = "", severity: str = "error") -> Problem:
        return Problem(self.file, self.line(path), dotted(path), message, hint, severity)


@dataclass
class Document:
    file: Path
    data: Any
    positions: Positions


class _TooLarge(Exception):
    """Raised when aliases expand a document past ``MAX_NODES``."""


class _Walk:
    """One document's construction: a single scalar constructor (building one per scalar costs
    more than the rest of the walk) and the node budget that stops alias bombs."""

    def __init__(self) -> None:
        self.left = MAX_NODES
        self.scalars = yaml.SafeLoader("")

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise _TooLarge


MERGE_TAG = "tag:yaml.org,2002:merge"


def _merge_sources(node: yaml.Node) -> list[yaml.MappingNode] | None:
    """The mappings a ``<<`` merges, first wins: one mapping (``<<: *a``) or a list of them
    (``<<: [*a, *b]``); ``None`` when it names anything else."""
    if isinstance(node, yaml.MappingNode):
        return [node]
    if isinstance(node, yaml.SequenceNode) and all(isinstance(n, yaml.MappingNode) for n in node.value):
        return list(node.value)
    return None


def _merge(merges: list[tuple[yaml.Node, yaml.Node]], out: dict[Any, Any], path: KeyPath, pos: Positions,
           problems: list[Problem], walk: _Walk) -> None:
    """YAML's merge key: keys of the merged mappings that the mapping does not set itself, each
    with the line where its value is written (inside the anchor)."""
    for key_node, value_node in merges:
        sources = _merge_sources(value_node)
        if sources is None:
            problems.append(Problem(pos.file, key_node.start_mark.line + 1, dotted(path),
                                    "`<<` must merge a mapping (`<<: *anchor`) or a list of them",
                                    "point `<<:` at an anchored mapping, e.g. `x-defaults: &defaults {...}`"))
            continue
        for source in sources:
            inner = Positions(pos.file)
            merged = _construct(source, path, inner, problems, walk)
            for key, value in merged.items():
                if key in out:
                    continue
                out[key] = value
                for sub, line in inner.lines.items():
                    if sub[: len(path) + 1] == path + (key,):
                        pos.lines.setdefault(sub, line)


def _construct(node: yaml.Node, path: KeyPath, pos: Positions, problems: list[Problem], walk: _Walk) -> Any:
    walk.spend()
    pos.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        merges: list[tuple[yaml.Node, yaml.Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE_TAG:
                if merges:  # YAML forbids a repeated key, `<<` included; compose (Go's yaml) refuses it too
                    problems.append(Problem(pos.file, key_node.start_mark.line + 1, dotted(path + ("<<",)),
                                            f"duplicate key '<<' (first at line {merges[0][0].start_mark.line + 1})",
                                            "merge several mappings with one key: `<<: [*a, *b]`"))
                    continue
                merges.append((key_node, value_node))
                continue
            key = _construct(key_node, path + ("<key>",), Positions(pos.file), problems, walk)
            if not isinstance(key, str | int | float | bool) or key is None:
                problems.append(Problem(pos.file, key_node.start_mark.line + 1, dotted(path),
                                        "mapping keys must be plain strings", "quote the key"))
                continue
            key = str(key) if not isinstance(key, str) else key
            child = path + (key,)
            if key in out:
                problems.append(Problem(pos.file, key_node.start_mark.line + 1, dotted(child),
                                        f"duplicate key '{key}' (first at line {pos.lines.get(child)})",
                                        "keep one of the two entries"))
                continue
            pos.lines[child] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, child, pos, problems, walk)
        _merge(merges, out, path, pos, problems, walk)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, path + (i,), pos, problems, walk) for i, item in enumerate(node.value)]
    if node.tag == "tag:yaml.org,2002:merge":
        return "<<"  # a merge key stays a plain key here; readers that honour merges apply them
    return walk.scalars.construct_object(node)  # scalars: the safe resolver's types


def load_yaml(file: Path, display: str | None = None, loader: Any = None) -> tuple[Document | None, list[Problem]]:
    """Read ``file``; return the document (``None`` when unreadable) and the problems found.
    ``loader``: ``compose_loader()`` for a compose file (default: PyYAML's safe typing)."""
    name = display or str(file)
    try:  # bounded and non-blocking: a path may name a FIFO, a device or a huge file
        raw = read_bytes(file, MAX_BYTES, name)
    except DevenvError as exc:
        what = exc.message.replace(f"cannot read {name}:", "cannot read the file:").replace(f"{name} is ", "cannot read the file: it is ")
        return None, [Problem(name, None, "", what, exc.hint)]
    if len(raw) > MAX_BYTES:
        return None, [Problem(name, None, "", f"the file is larger than {MAX_BYTES // 1024} KiB, the limit for a config",
                              "this is probably not a devenv config; check the path")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [Problem(name, line, "", f"not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})",
                              "save the file as UTF-8")]
    return parse_yaml_text(text, name, file, loader)


def _syntax_problem(text: str, name: str) -> Problem:
    """Where and why ``text`` is not YAML. Composing again with the pure-Python loader costs time
    only on failure, and its messages name the offending character or alias (libyaml's do not)."""
    try:
        list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        hint = ("YAML does not allow tabs for indentation: indent with spaces" if "'\\t'" in what
                else "check indentation, colons and quoting on that line")
        return Problem(name, mark.line + 1 if mark else None, "", f"not valid YAML: {what}", hint)
    except RecursionError:
        pass
    return Problem(name, None, "", "not valid YAML", "check indentation, colons and quoting")


def parse_yaml_text(text: str, name: str, file: Path | None = None,
                    loader: Any = None) -> tuple[Document | None, list[Problem]]:
    pos = Positions(name)
    problems: list[Problem] = []
    try:
        nodes = list(yaml.compose_all(text, Loader=loader or FAST_LOADER))
    except yaml.YAMLError:
        return None, [_syntax_problem(text, name)]
    except RecursionError:
        return None, [Problem(name, None, "", "the YAML nests too deeply", "flatten the document")]
    if len(nodes) > 1:
        return None, [Problem(name, nodes[1].start_mark.line + 1, "", "the file holds more than one YAML document",
                              "keep a single document (remove the extra '---')")]
    if not nodes or nodes[0] is None:
        return Document(file or Path(name), None, pos), []
    try:
        data = _construct(nodes[0], (), pos, problems, _Walk())
    except _TooLarge:
        return None, [Problem(name, nodes[0].start_mark.line + 1, "", f"the document expands to more than {MAX_NODES} values",
                              "aliases (*name) expand in place; use fewer nested aliases")]
    except (yaml.YAMLError, ValueError, RecursionError) as exc:
        return None, [Problem(name, nodes[0].start_mark.line + 1, "", f"cannot read a value: {exc}", "check the value's syntax")]
    return Document(file or Path(name), data, pos), problems
