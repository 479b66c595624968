"""Read foreign YAML streams (``kubectl get -o yaml`` dumps, ``helm template`` output) with limits
and line numbers.

Config files go through ``yamlpos``; a dump is different in size (megabytes of pods) and shape
(many documents), so it gets its own reader built on libyaml's *event* parser:

* fast: libyaml tokenises in C and this module builds plain dicts and lists from the events in one
  loop (``yaml.safe_load_all`` with the pure-Python loader cost ~5 s per MB). The plain pass
  (import's) reads cheap events instead of PyYAML's event objects (~5 MB/s on one core here), and a
  big ``List`` is read in one piece per core at once (``read_list_split``);
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
import marshal
import os
import pickle
import re
import signal
import stat
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, NamedTuple, NoReturn

import yaml

try:
    import yaml._yaml as _cyaml_module  # libyaml's C parser, when PyYAML was built with it
except ImportError:  # pragma: no cover - PyYAML without libyaml reads through its Python parser
    _cyaml_module = None  # type: ignore[assignment]

from devenv.errors import DevenvError

MAX_DUMP_BYTES = 64 * 1024 * 1024  # a namespace dump with pods is a few MB; 64 MB is a mistake
MAX_DEPTH = 64  # Kubernetes objects nest ~15 levels; CRD schemas a few more
MAX_NODES_FLOOR = 50_000  # as the config loader's budget; grows with the text (see ``node_budget``)
EVENT_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_cyaml: Any = _cyaml_module


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


# A frame is ``[container, size, key, key_line, merges, anchor]`` (``key`` is ``_NO_KEY`` while a
# mapping waits for one); ``top`` is the innermost. Kept as one loop over local names, scalars first
# (most events are), because this is the hot path of a big dump: ``lim.left`` lives in a local and
# is written back at the end.
def _build(parser: Any, lim: _Limits) -> list[Any]:
    """Positioned data (``YMap``/``YList``) from the parser's own events."""
    docs: list[Any] = []
    stack: list[list[Any]] = []
    top: list[Any] | None = None
    anchors, first_chars, plain_value = lim.anchors, lim.first_chars, lim.plain_value
    kinds, no_key, ylist = _KINDS, _NO_KEY, YList
    next_event, left = parser.get_event, lim.left
    while True:
        ev = next_event()
        kind = kinds.get(type(ev))
        if kind == _SCALAR:
            left, size = left - 1, 1
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
            value, size, line = frame[0], frame[1], frame[0].line
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
            top[2], top[3] = lim.key(value, line), line
        else:
            key, top[2] = top[2], no_key
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


# --------------------------------------------------------------------------- the plain pass
#
# libyaml's C parser builds each event by calling PyYAML's Python event classes (an ``__init__``
# that sets six or seven attributes, two thirds of the cost of reading an event). The plain pass
# needs none of that: while it reads, the C module's event names point at the constructors below,
# which hand back the scalar's own argument tuple or a shared marker. The swap is local to this
# module's reads (a lock; the positioned pass and a fallback reader see PyYAML's own events) and
# checked once against the installed PyYAML: if it no longer builds events through those names,
# the plain pass reads through the positioned builder instead.


class _Anchored(tuple):  # type: ignore[type-arg]
    """A collection start that defines an anchor: ``(is_mapping, anchor)``."""

    __slots__ = ()


class _AliasName(str):
    """An alias event: the anchor it names."""

    __slots__ = ()


_MAP_START, _SEQ_START, _CLOSE, _STREAM_END, _OTHER = object(), object(), object(), object(), object()
_CHEAP_EVENTS: dict[str, Any] = {
    # a scalar is its argument tuple: (anchor, tag, implicit, value, start_mark, end_mark, style)
    "ScalarEvent": lambda *args: args,
    "MappingStartEvent": lambda anchor, tag, implicit, start, end, flow:
        _MAP_START if anchor is None else _Anchored((True, anchor)),
    "SequenceStartEvent": lambda anchor, tag, implicit, start, end, flow:
        _SEQ_START if anchor is None else _Anchored((False, anchor)),
    "MappingEndEvent": lambda start, end: _CLOSE,
    "SequenceEndEvent": lambda start, end: _CLOSE,
    "AliasEvent": lambda anchor, start, end: _AliasName(anchor),
    "StreamEndEvent": lambda start, end: _STREAM_END,
    "StreamStartEvent": lambda start, end, encoding: _OTHER,
    "DocumentStartEvent": lambda start, end, explicit, version, tags: _OTHER,
    "DocumentEndEvent": lambda start, end, explicit: _OTHER,
}
_READ_LOCK = threading.Lock()  # held by every read: the swap must not reach another thread's
_cheap_ok: bool | None = None  # whether the installed PyYAML builds events through those names


@contextmanager
def _cheap_events() -> Iterator[None]:
    """The C parser's event names pointing at ``_CHEAP_EVENTS`` (the caller holds ``_READ_LOCK``)."""
    saved = {name: getattr(_cyaml, name) for name in _CHEAP_EVENTS}
    for name, make in _CHEAP_EVENTS.items():
        setattr(_cyaml, name, make)
    try:
        yield
    finally:
        for name, original in saved.items():
            setattr(_cyaml, name, original)


def _cheap_events_work() -> bool:
    """Whether reading ``a: [1]`` under the swap gives the markers (checked once per process)."""
    global _cheap_ok
    if _cheap_ok is None:
        _cheap_ok = _cyaml is not None and _swap_reads_as_expected()
    return _cheap_ok


def _swap_reads_as_expected() -> bool:
    parser = EVENT_LOADER("a: [1]\n")
    try:
        with _cheap_events():
            got = [parser.get_event() for _ in range(10)]
    except Exception:  # noqa: BLE001 - any surprise means: read the slow, known way
        return False
    finally:
        parser.dispose()
    shape = [e[3] if type(e) is tuple else e for e in got]
    return shape == [_OTHER, _OTHER, _MAP_START, "a", _SEQ_START, "1", _CLOSE, _CLOSE, _OTHER, _STREAM_END]


# ``_build`` without positions, on the swapped events: plain dicts and lists, the same limits (depth,
# the value budget with aliases charged what they stand for), merge keys and scalar types, and
# ``_Retry`` on any problem. About 2x faster than ``_build``: the import of a big dump reads it this
# way and asks for lines only when a type check fails, as its JSON path does.
def _build_plain(parser: Any, lim: _Limits) -> list[Any]:
    """Plain dicts and lists from the swapped events, or ``_Retry``."""
    docs: list[Any] = []
    stack: list[list[Any]] = []
    top: list[Any] | None = None
    anchors, first_chars, memo = lim.anchors, lim.first_chars, lim.plain
    no_key, missing, scalar_event = _NO_KEY, _MISSING, yaml.ScalarEvent
    tuple_, list_, str_, containers, anchored, alias = tuple, list, str, (dict, list), _Anchored, _AliasName
    map_start, seq_start, close, stream_end = _MAP_START, _SEQ_START, _CLOSE, _STREAM_END
    next_event, left = parser.get_event, lim.left
    while True:
        ev = next_event()
        if type(ev) is tuple_:  # a scalar: (anchor, tag, implicit, value, start_mark, end_mark, style)
            left, size = left - 1, 1
            value = ev[3]
            if ev[1] is not None:
                value = lim.scalar(scalar_event(*ev))
            elif not ev[6] and (not value or value[0] in first_chars):
                value = memo.get(value, missing)
                if value is missing:
                    value = memo[ev[3]] = lim.scalar(scalar_event(*ev))
            if ev[0] is not None:
                anchors[ev[0]] = (value, 1)
        elif ev is close:
            value, size, _, merges, anchor = stack.pop()
            if merges:
                _merge_plain(value, merges)
            if anchor:
                anchors[anchor] = (value, size)
            top = stack[-1] if stack else None
        elif ev is map_start or ev is seq_start or type(ev) is anchored:
            if len(stack) >= MAX_DEPTH:
                raise _Retry
            left -= 1
            is_map, anchor = (ev is map_start, None) if type(ev) is not anchored else ev
            top = [{} if is_map else [], 1, no_key, None, anchor]
            stack.append(top)
            continue
        elif type(ev) is alias:
            if ev not in anchors:
                raise _Retry
            value, size = anchors[ev]
            left -= size
        elif ev is stream_end:
            break
        else:
            continue
        if left < 0:
            raise _Retry
        if top is None:
            docs.append(value)
            continue
        into, top[1] = top[0], top[1] + size
        if type(into) is list_:
            into.append(value)
        elif top[2] is no_key:
            if type(value) is not str_:  # most keys are strings already
                if isinstance(value, containers) or value is None:
                    raise _Retry
                value = str(value)
            top[2] = value
        else:
            key, top[2] = top[2], no_key
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


# --------------------------------------------------------------------------- pieces at once
#
# A ``kubectl get -o yaml`` dump is one ``List`` whose ``items:`` sequence is written at column 0,
# one ``- `` line per object. A big one is cut at such lines into one piece per core (at most
# ``MAX_PIECES``): the first piece is a valid document up to its cut, and each later one reads as
# ``items:`` followed by its part of the list (the last with the keys after it). Forked children
# read the later pieces and work on their items (the caller's ``each``: type checks, dropping what
# is never kept) while this process does the same with the first; each child sends back only its
# results. They are used only when the pieces join into one ``List`` document: the first ending and
# every later one starting with ``items``, the middle ones holding nothing else, no other key
# twice, and a ``kind`` ending in ``List``. Anything else (a cut that was not an item boundary
# leaves an unclosed quote or a different last key; an alias across a cut names no anchor; more
# documents; ``each`` refusing an item) is a miss, and the caller reads the whole text in one
# piece, as before, for its answer or its error.

SPLIT_MIN_BYTES = 1024 * 1024  # below this, a fork and the hand-over cost more than they save
PIECE_MIN_BYTES = 512 * 1024  # no piece smaller than this
MAX_PIECES = 8  # the parent reads every other piece's results: more cores stop paying
_ITEMS_HEADER = re.compile(r"items:[ \t]*\r?\n(?:[ \t]*(?:#[^\n]*)?\r?\n)*- ")


def pieces(text: str, count: int) -> list[str] | None:
    """The text cut into up to ``count`` pieces at items of its top-level ``items:`` list, evenly
    by size, or ``None`` (fewer than two pieces, or no such list at column 0)."""
    probe = text.find("\n- ", len(text) // count) + 1
    head = text.rfind("\nitems:", 0, probe) + 1 if probe else -1
    if head < 0 or (head == 0 and not text.startswith("items:")) or not (m := _ITEMS_HEADER.match(text, head)):
        return None
    cuts = [m.end() - 2]  # the first item; the first piece holds at least it
    for i in range(1, count):
        cut = text.find("\n- ", max(len(text) * i // count, cuts[-1])) + 1
        if cut == 0:
            break
        cuts.append(cut)
    if len(cuts) < 2:
        return None
    bounds = [*cuts[1:], len(text)]
    return [text[:bounds[0]]] + ["items:\n" + text[bounds[i]:bounds[i + 1]] for i in range(len(bounds) - 1)]


class Piece(NamedTuple):
    """What a piece's reader sends back: the document's keys in order, its ``kind``, and ``each``'s
    results for its items, in order."""

    keys: list[str]
    kind: Any
    results: list[Any]


def joined(*parts: Piece | None) -> list[Any] | None:
    """Every piece's results, when the pieces are the parts of one ``List`` document; else ``None``."""
    done = [p for p in parts if p is not None]
    if len(done) < 2 or len(done) != len(parts) or done[0].keys[-1:] != ["items"]:
        return None
    if any(p.keys[:1] != ["items"] for p in done[1:]) or any(p.keys != ["items"] for p in done[1:-1]):
        return None
    others = done[0].keys[:-1] + done[-1].keys[1:]
    if len(set(others)) != len(others):
        return None
    kind = done[0].kind if "kind" in done[0].keys else done[-1].kind
    return [r for p in done for r in p.results] if isinstance(kind, str) and kind.endswith("List") else None


def cores() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def read_list_split(text: str, source: str, each: Callable[[Any], list[Any]], count: int | None = None) -> list[Any] | None:
    """``each(item)`` for every item of a big ``List`` dump, concatenated in order, computed in
    ``count`` processes at once (default: one per core, see above); ``None`` when the text does not
    split, the pieces do not join, or ``each`` raised a ``DevenvError`` for an item. Only from a
    single-threaded process (a fork copies one thread) that can fork."""
    count = min(count or cores(), MAX_PIECES, len(text) // PIECE_MIN_BYTES)
    parts = pieces(text, count) if len(text) >= SPLIT_MIN_BYTES and count > 1 and hasattr(os, "fork") else None
    if parts is None or threading.active_count() != 1:
        return None
    budget = MAX_NODES_FLOOR // len(parts)
    children: list[tuple[int, int]] = []
    with gc_paused():
        try:
            children.extend(_fork(part, source, each, budget) for part in parts[1:])
            mine = _read_piece(parts[0], source, each, budget)
            theirs = [_unpack(_read_all(fd)) if mine is not None else None for _, fd in children]
        except OSError:  # no pipe or no fork here (a process or file limit): a miss, read in one piece
            return None
        finally:
            for pid, fd in children:
                os.close(fd)
                _reap(pid)
    return joined(mine, *theirs)


def _fork(text: str, source: str, each: Callable[[Any], list[Any]], budget: int) -> tuple[int, int]:
    """A child reading one piece: its pid, and the pipe its results come down."""
    read, write = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read)
        os.close(write)
        raise
    if pid == 0:
        _child(read, write, text, source, each, budget)
    os.close(write)
    return pid, read


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _read_piece(text: str, source: str, each: Callable[[Any], list[Any]], budget: int) -> Piece | None:
    """A piece read plainly (its budget its share of the whole's ``node_budget``), and ``each`` on
    its items."""
    try:
        docs = _parse(text, source, _build_plain, budget + len(text) // 2)
    except _Retry:
        return None
    if len(docs) != 1 or not isinstance(docs[0], dict) or not isinstance(docs[0].get("items"), list):
        return None
    try:
        results = [out for item in docs[0]["items"] for out in each(item)]
    except DevenvError:
        return None
    return Piece(list(docs[0]), docs[0].get("kind"), results)


def _child(read: int, write: int, text: str, source: str, each: Callable[[Any], list[Any]], budget: int) -> NoReturn:
    """The forked reader of a piece: its ``Piece`` down the pipe, or nothing."""
    code = 1
    try:
        os.close(read)
        piece = _read_piece(text, source, each, budget)
        if piece is not None:
            with os.fdopen(write, "wb") as pipe:
                pipe.write(_pack(tuple(piece)))
            code = 0
    finally:
        os._exit(code)  # never the parent's exit handlers, whatever happened


def _pack(value: tuple[Any, ...]) -> bytes:
    """marshal (the fastest for plain data) or, for values it does not take (dates), pickle."""
    try:
        return b"m" + marshal.dumps(value)
    except ValueError:
        return b"p" + pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)


def _unpack(data: bytes) -> Piece | None:
    """What ``_pack`` wrote (this process's own child; an empty pipe is a child that failed)."""
    if data[:1] == b"m":
        return Piece(*marshal.loads(data[1:]))
    if data[:1] == b"p":
        return Piece(*pickle.loads(data[1:]))  # noqa: S301 - written by this process's own fork
    return None


def _reap(pid: int) -> None:
    """The child gone: killed if it is still reading (this side failed or was interrupted)."""
    try:
        if os.waitpid(pid, os.WNOHANG) == (0, 0):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    except ChildProcessError:
        pass


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
    without, plain dicts and lists, read faster, and any problem is read again with positions for its message."""
    with gc_paused():
        if not positions:
            try:
                return _parse(text, source, _build_plain)
            except _Retry:
                pass
        return _parse(text, source, _build)


def _parse(text: str, source: str, build: Any, budget: int | None = None) -> list[Any]:
    plain = build is _build_plain
    with _READ_LOCK:
        if plain and not _cheap_events_work():
            build = _build  # its containers are dicts and lists too; only slower
        parser = EVENT_LOADER(text)
        try:
            with _cheap_events() if build is _build_plain else nullcontext():
                docs: list[Any] = build(parser, _Limits(source, budget or node_budget(text)))
            return docs
        except yaml.YAMLError as exc:
            if plain:
                raise _Retry from None
            mark = getattr(exc, "problem_mark", None)
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            where = f":{mark.line + 1}" if mark else ""
            raise DevenvError(f"{source}{where}: not valid YAML: {problem}",
                              "save it with `kubectl get ... -o yaml > dump.yaml`") from None
        except DevenvError:
            if plain:
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
