"""Read foreign YAML streams (``kubectl get -o yaml`` dumps, ``helm template`` output) with limits
and line numbers.

Config files go through ``yamlpos``; a dump is different in size (megabytes of pods) and shape
(many documents), so it gets its own reader built on libyaml's *event* parser:

* fast: libyaml tokenises in C and this module builds plain dicts and lists from the events in one
  loop (``yaml.safe_load_all`` with the pure-Python loader cost ~5 s per MB; this reads >5 MB/s);
* bounded: the size is capped before reading, nesting depth is capped, and aliases are charged
  the size of what they stand for, so an alias bomb is refused before anything expands (aliases
  share the constructed object; nothing is copied);
* never recursive: a stack, not recursion, so deep nesting is a clean error, not a crash;
* positioned: every mapping and list remembers its line and the line of each key or item, so a
  type error can name ``dump.yaml:42``.

Merge keys (``<<: *anchor``) are applied as YAML 1.1 says: explicit keys win.
"""

from __future__ import annotations

import gc
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from devenv.errors import DevenvError

MAX_DUMP_BYTES = 64 * 1024 * 1024  # a namespace dump with pods is a few MB; 64 MB is a mistake
MAX_DEPTH = 64  # Kubernetes objects nest ~15 levels; CRD schemas a few more
MAX_NODES_FLOOR = 50_000  # as the config loader's budget; grows with the text (see ``node_budget``)
EVENT_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YMap(dict):  # type: ignore[type-arg]
    """A mapping that remembers its line and each key's line (1-based)."""

    __slots__ = ("line", "key_lines")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}


class YList(list):  # type: ignore[type-arg]
    """A list that remembers its line and each item's line (1-based)."""

    __slots__ = ("line", "item_lines")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


def line_of(container: Any, key: str | int | None = None) -> int | None:
    """The line of ``container[key]`` (or of the container), when it came from this reader."""
    if isinstance(container, YMap):
        return container.key_lines.get(str(key), container.line) if key is not None else container.line
    if isinstance(container, YList):
        if isinstance(key, int) and 0 <= key < len(container.item_lines):
            return container.item_lines[key]
        return container.line
    return None


def node_budget(text: str) -> int:
    """No document without aliases holds more values than half its characters (each value takes
    at least one character and a separator), so this never refuses an honest dump."""
    return MAX_NODES_FLOOR + len(text) // 2


class _Limits:
    """What a stream may spend, and the anchors it defined (value, size in values)."""

    def __init__(self, source: str, budget: int) -> None:
        self.source = source
        self.left = budget
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.loader = yaml.SafeLoader("")
        self.first_chars = frozenset(k for k in self.loader.yaml_implicit_resolvers if k)
        self.plain: dict[str, Any] = {}  # plain scalar text -> its value (a dump repeats its values)

    def fail(self, line: int, message: str, hint: str) -> DevenvError:
        return DevenvError(f"{self.source}:{line}: {message}", hint)

    def overspent(self, line: int) -> DevenvError:
        return self.fail(line, "the YAML expands to too many values (aliases, *name, repeat whole subtrees)",
                         "this is not a Kubernetes dump; save one with `kubectl get ... -o yaml`")

    def too_deep(self, line: int) -> DevenvError:
        return self.fail(line, f"the YAML nests deeper than {MAX_DEPTH} levels",
                         "this is not a Kubernetes dump; save one with `kubectl get ... -o yaml`")

    def plain_value(self, ev: Any) -> Any:
        """An untagged plain scalar that may be a number, boolean, null or date: resolved and
        constructed once per distinct text (the values are immutable, so sharing them is safe;
        the memo holds only texts of the dump, so it is bounded by its size)."""
        value = self.plain.get(ev.value, _MISSING)
        if value is _MISSING:
            value = self.plain[ev.value] = self.scalar(ev)
        return value

    def scalar(self, ev: Any) -> Any:
        """Quoted and block scalars are strings, and so is a plain one whose first character no
        implicit type starts with (most of a dump); the rest go through the safe resolver and
        constructor (ints, booleans, null; an unknown explicit tag is refused)."""
        value = ev.value
        if ev.tag is None or ev.tag == "!":
            if ev.style or (value and value[0] not in self.first_chars):
                return value
            tag = self.loader.resolve(yaml.ScalarNode, value, ev.implicit)  # type: ignore[no-untyped-call]
            if tag in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:merge"):
                return value
        else:
            tag = ev.tag
        try:
            return self.loader.construct_object(yaml.ScalarNode(tag, value, ev.start_mark, ev.end_mark, ev.style))
        except (yaml.YAMLError, ValueError) as exc:
            raise self.fail(ev.start_mark.line + 1, f"cannot read the value {value[:40]!r}: {exc}",
                            "quote the value, or drop its tag") from None

    def merge(self, target: YMap, merges: list[Any], line: int) -> None:
        """YAML 1.1 merge keys: keys the mapping sets itself win."""
        for src in merges:
            for m in src if isinstance(src, list) else [src]:
                if not isinstance(m, dict):
                    raise self.fail(line, "a merge key (<<) takes a mapping or a list of mappings", "merge a mapping")
                for k, v in m.items():
                    if k not in target:
                        target[k] = v
                        target.key_lines[k] = line_of(m, k) or line

    def key(self, value: Any, line: int) -> Any:
        if isinstance(value, dict | list) or value is None:
            raise self.fail(line, "mapping keys must be plain strings", "quote the key")
        return value if value == "<<" else str(value)

    def duplicate(self, into: YMap, key: str, line: int) -> DevenvError:
        return self.fail(line, f"duplicate key '{key}' (first at line {into.key_lines[key]})",
                         "a dump written by kubectl never repeats a key; keep one of the two")


_MISSING = object()
_NO_KEY = object()
_SCALAR, _ALIAS, _MAP, _SEQ, _END, _STOP = range(6)
_KINDS = {yaml.ScalarEvent: _SCALAR, yaml.AliasEvent: _ALIAS, yaml.MappingStartEvent: _MAP,
          yaml.SequenceStartEvent: _SEQ, yaml.MappingEndEvent: _END, yaml.SequenceEndEvent: _END,
          yaml.StreamEndEvent: _STOP}
_EVENT_TYPES = (yaml.ScalarEvent, yaml.AliasEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent,
                yaml.MappingEndEvent, yaml.SequenceEndEvent, yaml.StreamEndEvent)


def _build(parser: Any, lim: _Limits) -> list[Any]:
    """Plain data from the parser's events. A frame is ``[container, size, key, key_line, merges,
    anchor]`` (``key`` is ``_NO_KEY`` while a mapping waits for one); ``top`` is the innermost.
    Kept as one loop over local names, scalars first (most events are), because this is the hot
    path of a 50 MB dump: ``lim.left`` lives in a local and is written back at the end."""
    docs: list[Any] = []
    stack: list[list[Any]] = []
    top: list[Any] | None = None
    anchors, first_chars, plain_value = lim.anchors, lim.first_chars, lim.plain_value
    kinds, no_key, ylist = _KINDS, _NO_KEY, YList
    next_event = parser.get_event
    left = lim.left
    while True:
        ev = next_event()
        kind = kinds.get(type(ev))
        if kind == _SCALAR:
            left -= 1
            size = 1
            line = ev.start_mark.line + 1
            value = ev.value
            if ev.tag is not None:
                value = lim.scalar(ev)
            elif not ev.style and (not value or value[0] in first_chars):
                value = plain_value(ev)
            if ev.anchor:
                anchors[ev.anchor] = (value, 1)
        elif kind == _END:
            frame = stack.pop()
            value, size = frame[0], frame[1]
            line = value.line
            if frame[4]:
                lim.merge(value, frame[4], line)
            if frame[5]:
                anchors[frame[5]] = (value, size)
            top = stack[-1] if stack else None
        elif kind in (_MAP, _SEQ):
            line = ev.start_mark.line + 1
            if len(stack) >= MAX_DEPTH:
                raise lim.too_deep(line)
            left -= 1
            top = [YMap(line) if kind == _MAP else ylist(line), 1, no_key, 0, None, ev.anchor]
            stack.append(top)
            continue
        elif kind == _ALIAS:
            line = ev.start_mark.line + 1
            if ev.anchor not in anchors:
                raise lim.fail(line, f"alias *{ev.anchor} names no anchor defined before it", "define &name first")
            value, size = anchors[ev.anchor]
            left -= size
        elif kind == _STOP:
            break
        else:
            continue
        if left < 0:
            raise lim.overspent(line)
        if top is None:
            docs.append(value)
            continue
        top[1] += size
        into = top[0]
        if type(into) is ylist:
            into.append(value)
            into.item_lines.append(line)
        elif top[2] is no_key:
            top[2] = lim.key(value, line)
            top[3] = line
        else:
            key = top[2]
            top[2] = no_key
            if key == "<<":
                top[4] = [*(top[4] or []), value]
            elif key in into:
                raise lim.duplicate(into, key, top[3])
            else:
                into[key] = value
                into.key_lines[key] = top[3]
    lim.left = left
    return docs


class _Retry(Exception):
    """The plain pass met something it does not explain (a limit, a bad key, a YAML error): the
    positioned pass reads the text again and says what and where."""


def _build_plain(parser: Any, lim: _Limits) -> list[Any]:
    """``_build`` without positions: plain dicts and lists, the same limits (depth, the value
    budget with aliases charged what they stand for), merge keys and scalar types, and ``_Retry``
    on any problem. About 1.4x faster than ``_build`` (no line bookkeeping): the import of a big
    dump reads it this way and asks for lines only when a type check fails, as its JSON path does."""
    docs: list[Any] = []
    stack: list[list[Any]] = []
    top: list[Any] | None = None
    anchors, first_chars, plain_value = lim.anchors, lim.first_chars, lim.plain_value
    no_key = _NO_KEY
    scalar, alias, map_start, seq_start, map_end, seq_end, stream_end = _EVENT_TYPES
    next_event = parser.get_event
    left = lim.left
    while True:
        ev = next_event()
        kind = type(ev)  # compared by identity: the cheapest dispatch in the hottest loop
        if kind is scalar:
            left -= 1
            size = 1
            value = ev.value
            if ev.tag is not None:
                value = lim.scalar(ev)
            elif not ev.style and (not value or value[0] in first_chars):
                value = plain_value(ev)
            if ev.anchor:
                anchors[ev.anchor] = (value, 1)
        elif kind is map_end or kind is seq_end:
            value, size, _, merges, anchor = stack.pop()
            if merges:
                _merge_plain(value, merges)
            if anchor:
                anchors[anchor] = (value, size)
            top = stack[-1] if stack else None
        elif kind is map_start or kind is seq_start:
            if len(stack) >= MAX_DEPTH:
                raise _Retry
            left -= 1
            top = [{} if kind is map_start else [], 1, no_key, None, ev.anchor]
            stack.append(top)
            continue
        elif kind is alias:
            if ev.anchor not in anchors:
                raise _Retry
            value, size = anchors[ev.anchor]
            left -= size
        elif kind is stream_end:
            break
        else:
            continue
        if left < 0:
            raise _Retry
        if top is None:
            docs.append(value)
            continue
        top[1] += size
        into = top[0]
        if type(into) is list:
            into.append(value)
        elif top[2] is no_key:
            if isinstance(value, dict | list) or value is None:
                raise _Retry
            top[2] = value if value == "<<" else str(value)
        else:
            key = top[2]
            top[2] = no_key
            if key == "<<":
                top[3] = [*(top[3] or []), value]
            elif key in into:
                raise _Retry
            else:
                into[key] = value
    return docs


def _merge_plain(target: dict[str, Any], merges: list[Any]) -> None:
    for src in merges:
        for m in src if isinstance(src, list) else [src]:
            if not isinstance(m, dict):
                raise _Retry
            for k, v in m.items():
                target.setdefault(k, v)


@contextmanager
def gc_paused() -> Iterator[None]:
    """The garbage collector off while a dump's values are built and checked: they hold no cycles
    (an alias names only a finished anchor), and its passes over a growing heap of a few million
    containers cost more than the parse (a third of the time on a 50 MB dump)."""
    paused = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if paused:
            gc.enable()


def load_stream(text: str, source: str, positions: bool = True) -> list[Any]:
    """Every document of ``text`` as plain data, or a ``DevenvError`` naming ``source``, the line
    and the fix. With ``positions`` the containers are ``YMap``/``YList`` (``line_of`` answers);
    without, plain dicts and lists, read faster, and any problem is read again with positions
    for its message."""
    with gc_paused():
        if not positions:
            try:
                return _parse(text, source, _build_plain)
            except _Retry:
                pass
        return _parse(text, source, _build)


def _parse(text: str, source: str, build: Any) -> list[Any]:
    parser = EVENT_LOADER(text)
    try:
        docs: list[Any] = build(parser, _Limits(source, node_budget(text)))
        return docs
    except yaml.YAMLError as exc:
        if build is _build_plain:
            raise _Retry from None
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        where = f":{mark.line + 1}" if mark else ""
        raise DevenvError(f"{source}{where}: not valid YAML: {problem}",
                          "save it with `kubectl get ... -o yaml > dump.yaml`") from None
    except DevenvError:
        if build is _build_plain:
            raise _Retry from None
        raise
    finally:
        parser.dispose()


def read_text_bounded(path: Path, what: str = "dump") -> str:
    """A regular file's text, read with a size cap. FIFOs, devices and sockets are refused before
    opening for read (``/dev/zero`` never ends, a FIFO blocks)."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise DevenvError(f"cannot read {path}: {exc.strerror}", f"pass the {what} file's path") from None
    if stat.S_ISDIR(st.st_mode):
        raise DevenvError(f"{path} is a directory, not a {what} file", f"pass the {what} file itself")
    if not stat.S_ISREG(st.st_mode):
        raise DevenvError(f"{path} is a {_kind(st.st_mode)}, not a regular file; devenv reads {what}s from files only",
                          f"save the {what} to a file first (`kubectl get ... -o yaml > dump.yaml`)")
    if st.st_size > MAX_DUMP_BYTES:
        raise DevenvError(f"{path} is larger than {MAX_DUMP_BYTES // (1024 * 1024)} MiB, the limit for a {what}",
                          "dump one namespace at a time (`kubectl -n NS get ...`)")
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_DUMP_BYTES + 1)
    except OSError as exc:
        raise DevenvError(f"cannot read {path}: {exc.strerror}", "check the path and its permissions") from None
    if len(raw) > MAX_DUMP_BYTES:
        raise DevenvError(f"{path} grew past {MAX_DUMP_BYTES // (1024 * 1024)} MiB while being read", "pass a finished dump")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise DevenvError(f"{path}:{line}: not UTF-8 text (byte 0x{raw[exc.start]:02x})",
                          "kubectl writes UTF-8; check that this is the dump") from None


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "character device"
    if stat.S_ISBLK(mode):
        return "block device"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "special file"
