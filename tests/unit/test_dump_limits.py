"""Hostile dumps are refused quickly and with bounded memory, through both reads of a dump: the
plain one ``devenv import`` uses first (``positions=False``) and the positioned one it falls back
to for the message (and ``init --from-k8s`` uses).

Each case runs ``importer.parse_dump`` in a child interpreter that reports its peak RSS
(``ru_maxrss``) and the parse's time, so one case's memory cannot hide behind another's. The
bounds are loose (a few times the text, seconds not minutes) on purpose: they catch an expansion
(an alias bomb grows without bound; ``/dev/zero`` grew to 8.5 GB before the limits), not noise.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from devenv import importer
from devenv.errors import DevenvError
from devenv.model.dumpyaml import load_stream

REPO = Path(__file__).resolve().parents[2]
CHILD = textwrap.dedent("""\
    import json, resource, sys, time
    from devenv import importer
    from devenv.errors import DevenvError
    text = open(sys.argv[1], encoding="utf-8").read()
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.monotonic()
    try:
        docs = importer.parse_dump(text, "hostile.yaml", positions=sys.argv[2] == "1")
        outcome = f"read {len(docs)} object(s)"
    except DevenvError as exc:
        outcome = "refused: " + exc.message
    print(json.dumps({"outcome": outcome, "seconds": time.monotonic() - start, "text_mb": len(text) / 1e6,
                      "grew_mb": (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024}))
""")


def laughs(levels: int = 12) -> str:
    lines = ["apiVersion: v1", "kind: ConfigMap", "metadata: {name: boom}", "data:",
             "  l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"  l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def merge_bomb(levels: int = 30) -> str:
    """Each mapping merges the previous one twice over: aliases through merge keys."""
    lines = ["x0: &m0 {a: 1, b: 2}"]
    lines += [f"x{i}: &m{i} {{<<: [*m{i - 1}, *m{i - 1}], k{i}: [*m{i - 1}, *m{i - 1}]}}" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


CASES = {
    "alias bomb": (laughs(), "too many values"),
    "alias bomb through merge keys": (merge_bomb(), "too many values"),
    "deep flow nesting (8 MB of '[')": ("a: " + "[" * 8_000_000, "nest"),
    "deep block nesting": ("".join(f"{' ' * i}k{i}:\n" for i in range(2000)), "nest"),
    "deep compact sequences": ("- " * 1_000_000 + "x\n", "nest"),
    "huge scalar (40 MB)": ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  k: "
                            + "x" * 40_000_000 + "\n", "read 1 object"),
    "200,000 empty documents": ("---\n" * 200_000, "read 0 object"),
    "unclosed quote over 10 MB": ("a: '" + "y" * 10_000_000, "not valid YAML"),
}


def run_child(text: str, tmp_path: Path, positions: bool) -> dict[str, object]:
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    res = subprocess.run([sys.executable, "-c", CHILD, str(path), "1" if positions else "0"], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr[-2000:]
    result: dict[str, object] = json.loads(res.stdout)
    return result


@pytest.mark.parametrize("positions", [False, True], ids=["plain", "positioned"])
@pytest.mark.parametrize("case", list(CASES))
def test_hostile_dump_is_answered_quickly_with_bounded_memory(case: str, positions: bool, tmp_path: Path) -> None:
    text, expect = CASES[case]
    got = run_child(text, tmp_path, positions)
    assert expect in str(got["outcome"]), got
    assert float(got["seconds"]) < 30, got  # seconds even on a loaded 2-core machine; a bomb would not end
    assert float(got["grew_mb"]) < 100 + 6 * float(got["text_mb"]), got  # text, its UTF-8 copy, the values


def test_a_refusal_from_the_plain_read_names_the_line() -> None:
    """The plain read has no lines: what it refuses is read again with them."""
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: 1\n  a: 2\n"
    with pytest.raises(DevenvError, match=r"^d\.yaml:6: duplicate key 'a' \(first at line 5\)"):
        importer.parse_dump(text, "d.yaml", positions=False)
    with pytest.raises(DevenvError, match=r"^d\.yaml:(9|1[0-6]): .*too many values"):
        importer.parse_dump(laughs(), "d.yaml", positions=False)
    deploy = ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec:\n  replicas: many\n"
              "  template: {spec: {containers: [{name: w, image: x}]}}\n")
    with pytest.raises(DevenvError, match=r"^d\.yaml:5: .*replicas must be a whole number"):
        importer.parse_dump(deploy, "d.yaml", positions=False)


def test_plain_and_positioned_reads_agree() -> None:
    text = ("x-base: &base {A: '1', B: 2, C: yes, D: ~, E: 0x1F, F: '', G: 2001-12-14}\n"
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
            "data:\n  <<: *base\n  B: '3'\n  H: [*base, {<<: [*base], A: z}]\n  I:\n")
    assert load_stream(text, "s.yaml", positions=False) == load_stream(text, "s.yaml")


# The file read and the two-process read of a big List, in this process (the CLI tests run them in
# a child, which a mutation run cannot reach).

def test_a_dump_that_is_not_a_regular_utf8_file_is_refused_with_the_fix(tmp_path: Path) -> None:
    import os
    import socket

    from devenv.model.dumpyaml import MAX_DUMP_BYTES, read_text_bounded

    def refusal(path: Path, what: str = "dump") -> tuple[str, str]:
        with pytest.raises(DevenvError) as exc:
            read_text_bounded(path, what)
        return exc.value.message, exc.value.hint

    missing = tmp_path / "nope.yaml"
    assert refusal(missing) == (f"cannot read {missing}: No such file or directory", "pass the dump file's path")
    assert refusal(tmp_path, "manifest") == (f"{tmp_path} is a directory, not a manifest file",
                                             "pass the manifest file itself")
    assert refusal(Path("/dev/zero")) == (
        "/dev/zero is a character device, not a regular file; devenv reads dumps from files only",
        "save the dump to a file first (`kubectl get ... -o yaml > dump.yaml`)")
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    assert refusal(fifo)[0].startswith(f"{fifo} is a FIFO (named pipe), not a regular file")
    sock_path = tmp_path / "s.sock"
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind(str(sock_path))
        assert refusal(sock_path)[0].startswith(f"{sock_path} is a socket, not a regular file")
    finally:
        sock.close()
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as f:
        f.truncate(MAX_DUMP_BYTES + 1)  # sparse: no disk used
    assert refusal(huge) == (f"{huge} is larger than 64 MiB, the limit for a dump",
                             "dump one namespace at a time (`kubectl -n NS get ...`)")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"kind: List\nitems:\n- name: caf\xe9\n")
    assert refusal(latin) == (f"{latin}:3: not UTF-8 text (byte 0xe9)", "kubectl writes UTF-8; check that this is the dump")
    ok = tmp_path / "ok.yaml"
    ok.write_text("kind: List\nitems: []\n", encoding="utf-8")
    assert read_text_bounded(ok) == "kind: List\nitems: []\n"


def big_list(count: int, kind: str = "List", tail: str = "") -> str:
    item = ("- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c{i:05d}\n"
            "    creationTimestamp: 2024-01-01T00:00:00Z\n  data: {{k: '{pad}'}}\n")
    body = "".join(item.format(i=i, pad="x" * 120) for i in range(count))
    return f"apiVersion: v1\nkind: {kind}\nitems:\n{body}{tail}"


def test_a_big_list_read_in_two_processes_gives_every_item_in_order() -> None:
    """Above 1 MB a List dump is read in two processes at once; the answer is the one-piece read's,
    item for item (timestamps included: they cross the pipe by pickle, not marshal)."""
    import threading

    from devenv.model.dumpyaml import read_list_split

    if threading.active_count() != 1:
        pytest.skip("a fork needs a single-threaded process; another test left a thread running")
    text = big_list(6000, tail="metadata: {resourceVersion: ''}\n")
    assert len(text) > 1024 * 1024
    whole = load_stream(text, "d.yaml", positions=False)[0]["items"]
    assert read_list_split(text, "d.yaml", lambda item: [item]) == whole
    names = read_list_split(text, "d.yaml", lambda item: [item["metadata"]["name"]])
    assert names == [f"c{i:05d}" for i in range(6000)]
    assert read_list_split(text, "d.yaml", lambda item: []) == []


def test_a_big_text_that_is_not_one_list_is_not_split() -> None:
    import threading

    from devenv.model.dumpyaml import read_list_split

    if threading.active_count() != 1:
        pytest.skip("a fork needs a single-threaded process; another test left a thread running")
    assert read_list_split(big_list(6000, kind="ConfigMap"), "d.yaml", lambda item: [item]) is None
    assert read_list_split(big_list(10), "d.yaml", lambda item: [item]) is None  # small: one piece is faster
    assert read_list_split(big_list(6000).replace("items:\n", "things:\n"), "d.yaml", lambda item: [item]) is None

    def refuse_one(item: dict) -> list:
        if item["metadata"]["name"] == "c05999":
            raise DevenvError("no", "")
        return [item]

    assert read_list_split(big_list(6000), "d.yaml", refuse_one) is None  # the caller reads it whole for the error


KUBECTL_HINT = "this is not a Kubernetes dump; save one with `kubectl get ... -o yaml`"
FIX_HINT = "fix the object (the API server would refuse it too), or dump it again with `kubectl get ... -o yaml`"
DEPLOY = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: w}\nspec:\n"


@pytest.mark.parametrize(("text", "message", "hint"), [
    (DEPLOY + "  replicas: true\n  template: {spec: {containers: [{name: w, image: x}]}}\n",
     "d.yaml:5: Deployment w: spec.replicas must be a whole number, got true/false", FIX_HINT),
    (DEPLOY + "  replicas: [1]\n  template: {spec: {containers: [{name: w, image: x}]}}\n",
     "d.yaml:5: Deployment w: spec.replicas must be a whole number, got a list", FIX_HINT),
    (DEPLOY + "  template: {spec: {containers: [{name: w, image: 5}]}}\n",
     "d.yaml:5: Deployment w: spec.template.spec.containers[0].image must be a string, got a number", FIX_HINT),
    (DEPLOY + "  template:\n    spec:\n      containers:\n      - name: w\n        image: x\n        ports:\n"
     "        - containerPort: http\n",
     "d.yaml:11: Deployment w: spec.template.spec.containers[0].ports[0].containerPort must be a whole number, "
     "got a string", FIX_HINT),
    ("a: " + "[" * 70 + "]" * 70 + "\n", "d.yaml:1: the YAML nests deeper than 64 levels", KUBECTL_HINT),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  <<: 5\n",
     "d.yaml:5: a merge key (<<) takes a mapping or a list of mappings", "merge a mapping"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  <<: [{a: 1}, 5]\n",
     "d.yaml:5: a merge key (<<) takes a mapping or a list of mappings", "merge a mapping"),
    ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata:\n  a: 1\n  a: 2\n",
     "d.yaml:6: duplicate key 'a' (first at line 5)", "a dump written by kubectl never repeats a key; keep one of the two"),
], ids=["bool", "list", "number", "nested-string", "deep", "merge-scalar", "merge-list-with-scalar", "duplicate"])
def test_a_bad_dump_is_refused_with_file_line_and_fix_by_both_reads(text: str, message: str, hint: str) -> None:
    for positions in (True, False):
        with pytest.raises(DevenvError) as err:
            importer.parse_dump(text, "d.yaml", positions=positions)
        assert (err.value.message, err.value.hint) == (message, hint)


def test_an_alias_bomb_is_refused_with_its_line_and_the_fix() -> None:
    with pytest.raises(DevenvError) as err:
        importer.parse_dump(laughs(), "d.yaml")
    assert err.value.message.endswith(": the YAML expands to too many values (aliases, *name, repeat whole subtrees)")
    assert err.value.message.startswith("d.yaml:") and err.value.hint == KUBECTL_HINT


def test_merged_keys_keep_the_line_they_are_written_on() -> None:
    from devenv.model.dumpyaml import line_of

    doc = load_stream("x: &a {p: 1, q: 2}\ny:\n  <<: [*a, {r: 5}]\n  q: 3\nz:\n- 1\n- 2\n", "s.yaml")[0]
    assert dict(doc["y"]) == {"p": 1, "q": 3, "r": 5}
    assert (line_of(doc["y"], "p"), line_of(doc["y"], "q"), line_of(doc["y"], "r")) == (1, 4, 3)
    assert (line_of(doc["z"], 0), line_of(doc["z"], 1)) == (6, 7)
    assert line_of(doc["z"], 2) == line_of(doc["z"], "x") == line_of(doc["z"]) == 6  # no such item: the list's line
    assert line_of(doc, "nope") == line_of(doc) == 1 and line_of({"a": 1}, "a") is None
    plain = load_stream("x: &a {p: 1, q: 2}\ny:\n  <<: [*a, {r: 5}]\n  q: 3\n", "s.yaml", positions=False)[0]
    assert plain["y"] == {"p": 1, "q": 3, "r": 5}


# --------------------------------------------------------------------------- exact limits and values
#
# What the reader spends, what it refuses and where, and that the plain read (import's) answers
# with plain dicts and lists (it does not fall back to the slower positioned read) wherever the
# text is fine.

def plain_only(value: object) -> None:
    """Every container of a plain read is a plain dict or list, not the positioned reader's."""
    if isinstance(value, dict):
        assert type(value) is dict, type(value)
        for v in value.values():
            plain_only(v)
    elif isinstance(value, list):
        assert type(value) is list, type(value)
        for v in value:
            plain_only(v)


def both_reads(text: str) -> list[object]:
    """The document(s) of ``text``: the plain read gives plain containers and agrees with the positioned one."""
    plain = load_stream(text, "s.yaml", positions=False)
    plain_only(plain)
    assert plain == load_stream(text, "s.yaml")
    return plain


def refusal_of(text: str, positions: bool) -> tuple[str, str]:
    with pytest.raises(DevenvError) as err:
        load_stream(text, "s.yaml", positions=positions)
    return err.value.message, err.value.hint


def expanded(value: object) -> int:
    """How many values a document stands for once every alias is expanded (a key is one)."""
    if isinstance(value, dict):
        return 1 + sum(1 + expanded(v) for v in value.values())
    if isinstance(value, list):
        return 1 + sum(expanded(v) for v in value)
    return 1


def aliased_to(budget: int) -> tuple[str, int]:
    """A text whose values, aliases expanded, number exactly ``node_budget(text) - budget + count``:
    padded with a comment so that its value budget is ``budget`` values more or less than it spends;
    the last value (line returned) is an alias of a list."""
    body = ("s: &s v\na: &a [" + ", ".join(["x"] * 100) + ", {k: y}, [z]]\nb:\n"
            + "- *s\n" + "- *a\n" * 500)
    import yaml

    spent = expanded(yaml.safe_load(body))
    pad = 2 * (spent + budget - 50_000) - len(body) - 3
    assert pad >= 0
    text = "#" + "p" * pad + "\n" + body + "\n"
    assert 50_000 + len(text) // 2 == spent + budget
    return text, text.count("\n") - 1


def test_aliases_are_charged_what_they_stand_for_exactly_up_to_the_budget() -> None:
    from devenv.model.dumpyaml import node_budget

    text, _ = aliased_to(0)  # spends its whole budget: read
    assert node_budget(text) == 50_000 + len(text) // 2
    doc = both_reads(text)[0]
    assert isinstance(doc, dict) and doc["b"][0] == "v" and len(doc["b"]) == 501
    text, last = aliased_to(-1)  # one value over: refused at the alias that overspends
    message = f"s.yaml:{last}: the YAML expands to too many values (aliases, *name, repeat whole subtrees)"
    for positions in (True, False):
        assert refusal_of(text, positions) == (message, KUBECTL_HINT)


def test_nesting_at_the_depth_limit_is_read_and_one_deeper_is_refused() -> None:
    deepest = "a: " + "[" * 63 + "]" * 63 + "\n"  # the mapping and 63 lists: 64 levels
    value = both_reads(deepest)[0]["a"]  # type: ignore[index]
    for _ in range(62):
        value = value[0]
    assert value == []
    too_deep = "a:\n  " + "[" * 64 + "]" * 64 + "\n"
    for positions in (True, False):
        assert refusal_of(too_deep, positions) == ("s.yaml:2: the YAML nests deeper than 64 levels", KUBECTL_HINT)


def test_anchors_aliases_merges_tags_and_keys_read_the_same_plainly() -> None:
    text = ("s: &s v\nt: *s\nm: &m {a: 1}\nn: *m\nl: &l [1, 2]\nk: *l\n"
            "base: &b {p: 1, q: 2}\nother: &o {r: 3}\n"
            "merged: &mm\n  <<: *b\n  q: 5\nagain: *mm\nboth: {<<: [*b, *o], p: 0}\n"
            "int: !!int \"7\"\nstr: !!str 7\nbare: ! 12\nquoted: \"12\"\nnum: 12\nflag: yes\nempty: ~\n"
            "1: a\n1.5: b\ntrue: c\n"
            "---\nsecond: [*s]\n")
    assert both_reads(text) == [
        {"s": "v", "t": "v", "m": {"a": 1}, "n": {"a": 1}, "l": [1, 2], "k": [1, 2],
         "base": {"p": 1, "q": 2}, "other": {"r": 3}, "merged": {"q": 5, "p": 1}, "again": {"q": 5, "p": 1},
         "both": {"p": 0, "q": 2, "r": 3}, "int": 7, "str": "7", "bare": 12, "quoted": "12", "num": 12,
         "flag": True, "empty": None, "1": "a", "1.5": "b", "True": "c"},
        {"second": ["v"]}]


@pytest.mark.parametrize(("text", "message", "hint"), [
    ("a: 1\n~: x\n", "s.yaml:2: mapping keys must be plain strings", "quote the key"),
    ("a: 1\n? [k]\n: x\n", "s.yaml:2: mapping keys must be plain strings", "quote the key"),
    ("a: 1\n? {k: v}\n: x\n", "s.yaml:2: mapping keys must be plain strings", "quote the key"),
    ("a: 1\nb: *nope\n", "s.yaml:2: alias *nope names no anchor defined before it", "define &name first"),
    ("a:\n  b: !!int " + "1234567890" * 4 + "abcde\n",
     "s.yaml:2: cannot read the value '" + "1234567890" * 4 + "': invalid literal for int() with base 10: '"
     + "1234567890" * 4 + "abcde'", "quote the value, or drop its tag"),
    ("a:\n  b: !!foo x\n", "s.yaml:2: cannot read the value 'x': could not determine a constructor for the tag "
     "'tag:yaml.org,2002:foo'\n  in \"<unicode string>\", line 2, column 6", "quote the value, or drop its tag"),
    ("a: 1\nb: [1\nc: 2\n", "s.yaml:3: not valid YAML: did not find expected ',' or ']'",
     "save it with `kubectl get ... -o yaml > dump.yaml`"),
    ("a: 1\nb: c\x07\n", "s.yaml: not valid YAML: unacceptable character #x0007: control characters are not allowed",
     "save it with `kubectl get ... -o yaml > dump.yaml`"),
], ids=["null-key", "list-key", "map-key", "undefined-alias", "bad-int-40-chars", "unknown-tag", "unclosed-flow",
        "control-character"])
def test_a_bad_value_or_key_is_refused_with_line_and_fix_by_both_reads(text: str, message: str, hint: str) -> None:
    for positions in (True, False):
        assert refusal_of(text, positions) == (message, hint)


def test_the_plain_read_checks_once_that_the_installed_pyyaml_swaps_as_expected(monkeypatch: pytest.MonkeyPatch) -> None:
    """Checked once per process: with this PyYAML the plain read uses the cheap events (plain
    containers); a C module without those event names makes it read through the positioned builder."""
    import types

    from devenv.model import dumpyaml

    monkeypatch.setattr(dumpyaml, "_cheap_ok", None)
    assert dumpyaml._cheap_events_work() is True
    assert type(load_stream("a: {b: [1]}\n", "s.yaml", positions=False)[0]) is dict
    monkeypatch.setattr(dumpyaml, "_cheap_ok", None)
    monkeypatch.setattr(dumpyaml, "_cyaml", types.SimpleNamespace())  # a C module that changed
    assert load_stream("a: {b: [1]}\n", "s.yaml", positions=False) == [{"a": {"b": [1]}}]
    assert dumpyaml._cheap_ok is False


def test_line_of_answers_for_the_container_itself_and_each_item() -> None:
    from devenv.model.dumpyaml import line_of

    doc = load_stream("a: 1\nNone: 2\nl: [\n  x, y]\n", "s.yaml")[0]
    assert (line_of(doc), line_of(doc, "None"), line_of(doc, "a")) == (1, 2, 1)
    assert (line_of(doc["l"]), line_of(doc["l"], 0), line_of(doc["l"], 1), line_of(doc["l"], -1)) == (3, 4, 4, 3)
    merged = load_stream("x: &a\n  p: 1\n  q: 2\ny:\n  <<: *a\n  r: 3\n", "s.yaml")[0]["y"]
    assert (line_of(merged, "p"), line_of(merged, "q"), line_of(merged, "r")) == (2, 3, 6)
