"""The plain read of a big dump: PyYAML's event names swapped for cheap constructors while it reads
(``dumpyaml.load_stream(..., positions=False)``), and a big ``List`` read in two halves at once, a
forked child reading the second and working on its items (``dumpyaml.read_list_split``, which
``importer.parse_dump`` uses). Whatever path a text takes, the result is what the positioned read
(PyYAML's own events, one piece) gives, or the same error with the same line."""

from __future__ import annotations

import threading
from typing import Any

import pytest
import yaml
import yaml._yaml as cyaml

from devenv import importer
from devenv.errors import DevenvError
from devenv.model import dumpyaml
from devenv.model.dumpyaml import Piece, joined, load_stream, pieces, read_list_split


def plain(value: Any) -> Any:
    """YMap/YList as dicts and lists (they compare equal anyway; this makes a failure readable)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def item(i: int) -> str:
    return (f"- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: cm-{i}\n    namespace: t\n"
            f"  data:\n    n: \"{i}\"\n    flag: yes\n    text: |\n      line one\n"
            f"      - not an item\n")


def dump(n: int, head: str = "apiVersion: v1\n", tail: str = "kind: List\nmetadata:\n  resourceVersion: \"\"\n") -> str:
    return head + "items:\n" + "".join(item(i) for i in range(n)) + tail


@pytest.fixture
def always_split(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Every text is a candidate for the two-halves read; the list counts the splits that joined."""
    joins: list[int] = []
    monkeypatch.setattr(dumpyaml, "SPLIT_MIN_BYTES", 0)
    monkeypatch.setattr(dumpyaml, "PIECE_MIN_BYTES", 1)
    monkeypatch.setattr(dumpyaml, "cores", lambda: 2)  # two pieces, whatever this machine has
    real = dumpyaml.joined

    def counting(*parts: Piece | None) -> list[Any] | None:
        out = real(*parts)
        joins.append(out is not None)
        return out

    monkeypatch.setattr(dumpyaml, "joined", counting)
    return joins


def test_a_list_is_cut_at_an_item_of_its_top_level_items_near_the_middle() -> None:
    text = dump(10)
    first, second = pieces(text, 2) or ("", "")
    assert first.endswith("\n") and second.startswith("items:\n- apiVersion: v1\n")
    assert first + second.removeprefix("items:\n") == text
    assert abs(len(first) - len(text) / 2) < len(item(9))


@pytest.mark.parametrize("text", [
    "apiVersion: v1\nkind: List\n",  # no items
    "items:\n  - a\n  - b\n  - c\n  - d\n",  # items indented: the cut lines are not at column 0
    "spec:\n  items:\n  - a\n  - b\n- c\n- d\n",  # "items:" is not a top-level key
    "items: [a,\n- b]\n",  # a flow list
], ids=["no-items", "indented", "nested-key", "flow"])
def test_texts_without_a_top_level_items_list_at_column_0_are_not_cut(text: str) -> None:
    assert pieces(text, 2) is None


@pytest.mark.parametrize("count", [2, 3, 5, 8])
def test_a_list_is_cut_into_even_pieces_each_after_the_first_reading_as_items(count: int) -> None:
    text = dump(40)
    parts = pieces(text, count) or []
    assert len(parts) == count
    assert parts[0] + "".join(p.removeprefix("items:\n") for p in parts[1:]) == text
    assert all(p.startswith("items:\n- apiVersion: v1\n") for p in parts[1:])
    assert max(len(p) for p in parts) - min(len(p) for p in parts) < 2 * len(item(39))


def test_more_pieces_than_items_stops_at_the_last_item() -> None:
    text = "items:\n- a\n- b\n- c\n"
    assert pieces(text, 8) == ["items:\n- a\n", "items:\n- b\n", "items:\n- c\n"]


@pytest.mark.parametrize("count", [3, 4, 7])
def test_many_pieces_read_as_one(always_split: list[int], count: int) -> None:
    text = dump(60)
    items = read_list_split(text, "d", each, count)
    assert always_split == [True] and items is not None
    assert [plain(i) for i in items] == items_of(text)


def test_a_middle_piece_holding_another_key_does_not_join(always_split: list[int]) -> None:
    """The list ends inside a middle piece and another top-level list follows at column 0."""
    text = "items:\n" + "".join(item(i) for i in range(10)) + "kind: List\nother:\n" + "".join(item(i) for i in range(30))
    assert read_list_split(text, "d", each, 4) is None
    assert True not in always_split


def test_a_comment_between_items_and_its_first_entry_still_cuts() -> None:
    text = "items:\n# objects\n\n" + "".join(item(i) for i in range(4))
    assert pieces(text, 2) is not None


def test_halves_join_only_when_the_first_ends_and_the_second_starts_with_items() -> None:
    def half(*keys: str, kind: Any = None, results: tuple[Any, ...] = ()) -> Piece:
        return Piece(list(keys), kind, list(results))

    assert joined(half("apiVersion", "items", results=(1,)), half("items", "kind", kind="List", results=(2,))) == [1, 2]
    assert joined(half("items", "kind", kind="List"), half("items")) is None  # items was not the open key
    assert joined(half("items"), half("kind", "items", kind="List")) is None
    assert joined(half("a", "items"), half("items", "a", "kind", kind="List")) is None  # a key twice: an error
    assert joined(half("items"), half("items", "kind", kind="Pod")) is None  # not a List: items not opened
    assert joined(half("items"), half("items", "kind", kind=["List"])) is None
    assert joined(half("items"), None) is None and joined(None, half("items", "kind", kind="List")) is None
    assert joined(half("items", results=(1,))) is None  # one piece is no split
    assert joined(half("a", "items", results=(1,)), half("items", results=(2,)),
                  half("items", "kind", kind="List", results=(3,))) == [1, 2, 3]
    assert joined(half("items"), half("items", "kind", kind="List"), half("items")) is None  # ended in the middle
    assert joined(half("items"), half("items", "metadata"), half("items", "kind", kind="List")) is None
    assert joined(half("kind", "items", kind="PodList", results=(1,)), half("items", results=(2,))) == [1, 2]


def items_of(text: str) -> list[Any]:
    return [plain(i) for i in load_stream(text, "d")[0]["items"]]


def each(item: Any) -> list[Any]:
    return [item]


def test_a_split_read_equals_the_positioned_read(always_split: list[int]) -> None:
    text = dump(40)
    items = read_list_split(text, "d", each)
    assert always_split == [True] and items is not None
    assert [plain(i) for i in items] == items_of(text)
    assert [o["metadata"]["name"] for o in items] == [f"cm-{i}" for i in range(40)]
    assert items[3]["data"]["flag"] is True


def test_each_runs_on_every_item_once_in_order(always_split: list[int]) -> None:
    text = dump(25)
    assert read_list_split(text, "d", lambda item: [item["metadata"]["name"], 0]) == \
        [x for i in range(25) for x in (f"cm-{i}", 0)]


def test_an_item_each_refuses_is_a_miss_in_either_half(always_split: list[int]) -> None:
    def refuse(name: str) -> Any:
        def check(item: Any) -> list[Any]:
            if item["metadata"]["name"] == name:
                raise DevenvError("no", "")
            return [item]
        return check

    text = dump(20)
    assert read_list_split(text, "d", refuse("cm-1")) is None  # in this process's half
    assert read_list_split(text, "d", refuse("cm-18")) is None  # in the child's half
    assert True not in always_split


@pytest.mark.parametrize("text", [
    # a quoted scalar spanning the cut: libyaml reads its column-0 "- " line as text
    "items:\n" + "".join(item(i) for i in range(3)) + '- a: "x\n- y"\n' + "".join(item(i) for i in range(3)),
    # an alias in the second half naming an anchor of the first
    "items:\n- &first {a: 1}\n" + "".join(item(i) for i in range(6)) + "- *first\n- *first\n",
    # a merge key across the cut
    "items:\n- &base {a: 1}\n" + "".join(item(i) for i in range(6)) + "- {<<: *base, b: 2}\n",
    # a second document after the list
    dump(6) + "---\nkind: Pod\n",
    # a top-level key between the list and the cut, whose own list is at column 0
    "items:\n- a\nother:\n" + "".join(item(i) for i in range(6)),
], ids=["quoted-across", "alias-across", "merge-across", "two-documents", "other-list"])
def test_texts_whose_halves_do_not_fit_are_not_joined(always_split: list[int], text: str) -> None:
    assert read_list_split(text, "d", each) is None
    assert True not in always_split
    assert plain(load_stream(text, "d", positions=False)) == plain(load_stream(text, "d"))  # one piece


@pytest.mark.parametrize("bad", [
    "- a: [1\n",  # an unclosed flow list in the second half
    "- metadata: {name: x}\n  metadata: {name: y}\n",  # a duplicate key
    "- *nowhere\n",
], ids=["yaml-error", "duplicate", "unknown-alias"])
def test_an_error_in_the_second_half_is_reported_at_its_line_in_the_whole(always_split: list[int], bad: str) -> None:
    text = "items:\n" + "".join(item(i) for i in range(8)) + bad + "".join(item(i) for i in range(8))
    assert read_list_split(text, "dump.yaml", each) is None
    with pytest.raises(DevenvError) as plain_read:
        importer.parse_dump(text, "dump.yaml", positions=False)
    with pytest.raises(DevenvError) as positioned:
        importer.parse_dump(text, "dump.yaml")
    assert plain_read.value.message == positioned.value.message
    first_bad = text[:text.index(bad)].count("\n") + 1
    assert plain_read.value.message.startswith((f"dump.yaml:{first_bad}:", f"dump.yaml:{first_bad + 1}:"))


def test_the_budget_is_shared_between_the_halves(always_split: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """An alias bomb in one half is refused as in one piece, with the positioned read's message."""
    monkeypatch.setattr(dumpyaml, "MAX_NODES_FLOOR", 100)
    bomb = "- &a [x, x, x, x, x, x, x, x, x, x]\n- &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n" \
           "- &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n- [*c, *c, *c, *c, *c, *c, *c, *c]\n"
    text = "items:\n" + "- a\n" * 30 + bomb
    assert read_list_split(text, "d", each) is None
    with pytest.raises(DevenvError, match="too many values"):
        importer.parse_dump(text, "d", positions=False)


def test_no_fork_while_another_thread_runs(always_split: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise AssertionError("forked with a second thread alive")

    monkeypatch.setattr(dumpyaml.os, "fork", no_fork)
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        assert read_list_split(dump(20), "d", each) is None
    finally:
        stop.set()
        other.join()
    assert always_split == []


def test_the_event_names_are_restored_after_a_read_and_after_a_failed_one() -> None:
    load_stream("a: [1, &x {b: c}, *x]\n", "d", positions=False)
    with pytest.raises(DevenvError):
        load_stream("a: [1\n", "d", positions=False)
    assert cyaml.ScalarEvent is yaml.events.ScalarEvent
    assert cyaml.MappingStartEvent is yaml.events.MappingStartEvent
    assert cyaml.AliasEvent is yaml.events.AliasEvent
    assert yaml.safe_load("a: [1, 2]") == {"a": [1, 2]}  # PyYAML's own loaders unaffected
    assert yaml.load("a: [1, 2]", Loader=yaml.CSafeLoader) == {"a": [1, 2]}


def test_a_pyyaml_that_builds_events_another_way_reads_through_the_positioned_builder(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dumpyaml, "_cheap_ok", False)
    text = dump(5)
    assert plain(load_stream(text, "d", positions=False)) == plain(load_stream(text, "d"))
    with pytest.raises(DevenvError, match=r"^d:3: not valid YAML"):
        load_stream("a: 1\nb: [\n", "d", positions=False)


@pytest.mark.parametrize("data", [b"", b"x"])
def test_a_child_that_wrote_nothing_is_a_miss(data: bytes) -> None:
    assert dumpyaml._unpack(data) is None


def test_values_marshal_cannot_carry_travel_by_pickle() -> None:
    import datetime

    half = Piece(["items"], None, [{"when": datetime.date(2024, 1, 2), "n": 1}])
    packed = dumpyaml._pack(tuple(half))
    assert packed[:1] == b"p" and dumpyaml._unpack(packed) == half
    plain_half = Piece(["items", "kind"], "List", [{"n": 1}])
    assert dumpyaml._pack(tuple(plain_half))[:1] == b"m" and dumpyaml._unpack(dumpyaml._pack(tuple(plain_half))) == plain_half


def test_a_child_that_dies_is_a_miss(always_split: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """A child killed (out of memory, a signal) leaves an empty pipe: the caller reads in one piece."""
    real = dumpyaml._read_piece

    def die_in_child(text: str, source: str, each: Any, budget: int) -> Any:
        if text.startswith("items:"):  # the second half: the child's
            dumpyaml.os.kill(dumpyaml.os.getpid(), 9)
        return real(text, source, each, budget)

    monkeypatch.setattr(dumpyaml, "_read_piece", die_in_child)
    assert read_list_split(dump(20), "d", each) is None


def test_dates_in_the_second_half_travel_back_by_pickle(always_split: list[int]) -> None:
    events = "".join(f"- {{kind: Event, when: 2024-01-0{i + 1}}}\n" for i in range(3))
    text = dump(10, tail="") + events + "kind: List\n"
    items = read_list_split(text, "d", each)
    assert always_split == [True] and items is not None and [plain(i) for i in items] == items_of(text)
    assert str(items[-1]["when"]) == "2024-01-03"


def test_import_reads_a_split_dump_like_one_piece(always_split: list[int]) -> None:
    def secret(name: str) -> str:
        return (f"- apiVersion: v1\n  kind: Secret\n  metadata: {{name: {name}, namespace: t, managedFields: [{{}}]}}\n"
                "  data: {password: aHVudGVyMg==}\n")

    text = dump(2, tail="") + secret("s") + "".join(item(i) for i in range(2, 24)) + secret("s2") + "kind: List\n"
    split = importer.parse_dump(text, "d", positions=False)
    assert always_split == [True]
    assert split == importer.parse_dump(text, "d")
    for name in ("s", "s2"):  # one read here, one in the child
        assert {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name, "namespace": "t"}, "type": "Opaque",
                "keys": ["password"]} in split
    assert "aHVudGVyMg" not in repr(split)


def test_the_swap_is_checked_against_the_installed_pyyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    assert dumpyaml._swap_reads_as_expected() is True
    monkeypatch.setitem(dumpyaml._CHEAP_EVENTS, "ScalarEvent", lambda *args: list(args))  # not what the loop reads
    assert dumpyaml._swap_reads_as_expected() is False
    monkeypatch.setitem(dumpyaml._CHEAP_EVENTS, "ScalarEvent", lambda *args: 1 / 0)
    assert dumpyaml._swap_reads_as_expected() is False
    assert cyaml.ScalarEvent is yaml.events.ScalarEvent  # restored after a failed check too


def test_no_fork_allowed_is_a_miss_with_nothing_left_open(always_split: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """A process limit (EAGAIN from fork) or no file descriptors left: read in one piece, no fd leaked."""
    import os

    def refuse() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    before = len(os.listdir("/proc/self/fd"))
    monkeypatch.setattr(dumpyaml.os, "fork", refuse)
    text = dump(20)
    assert read_list_split(text, "d", each) is None
    assert len(os.listdir("/proc/self/fd")) == before
    assert importer.parse_dump(text, "d", positions=False) == importer.parse_dump(text, "d")


def test_a_later_fork_failing_stops_the_children_already_started(always_split: list[int],
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    real, forks = os.fork, []

    def second_fails() -> int:
        if forks:
            raise BlockingIOError(11, "Resource temporarily unavailable")
        pid = real()
        forks.append(pid)
        return pid

    monkeypatch.setattr(dumpyaml.os, "fork", second_fails)
    assert read_list_split(dump(30), "d", each, 3) is None
    with pytest.raises(ChildProcessError):
        os.waitpid(forks[0], os.WNOHANG)  # reaped
