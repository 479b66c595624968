"""The importer's pure core and the live path's contract with kubectl (a fake Runner)."""

from __future__ import annotations

import argparse
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from devenv import importer
from devenv.commands import import_
from devenv.errors import DevenvError
from devenv.model import load_project
from devenv.proc import Result
from tests.unit.test_import_roundtrip import (
    DUMPS,
    INLINE_CREDENTIALS,
    assert_no_secret,
    dump_objects,
    make_project,
    secret_values,
)

MUTATING = {"apply", "create", "delete", "edit", "patch", "replace", "scale", "set", "label", "annotate",
            "exec", "cp", "rollout", "port-forward", "run", "expose", "drain", "cordon", "taint"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Any:
    project, _ = load_project(make_project(tmp_path_factory.mktemp("core") / "shop"))
    return project.app


def test_parse_dump_keeps_only_secret_names_and_keys() -> None:
    text = DUMPS["acme"].read_text()
    objects = importer.parse_dump(text)
    secrets = [o for o in objects if o["kind"] == "Secret"]
    assert {o["metadata"]["name"]: o["keys"] for o in secrets} == {
        "shop-db": ["password"], "acme-payments": ["api-key"], "acme-smtp": ["SMTP_PASSWORD", "SMTP_USER"]}
    assert all(set(o) == {"apiVersion", "kind", "metadata", "type", "keys"} for o in secrets)
    assert_no_secret(repr(objects), "acme", "parsed objects (last-applied annotation included)")
    assert all("managedFields" not in (o.get("metadata") or {}) for o in objects)


def test_string_data_is_dropped_too() -> None:
    objects = importer.parse_dump(DUMPS["globex"].read_text())
    text = repr(objects)
    leaked = [v for v in secret_values("globex") if v not in INLINE_CREDENTIALS and v in text]
    assert not leaked  # (an inline env credential is a Deployment's, dropped by the import, not the parse)
    assert any(o["kind"] == "Secret" and o["keys"] == ["api-key"] for o in objects)


def test_bad_yaml_is_a_devenv_error() -> None:
    with pytest.raises(DevenvError, match="not valid YAML"):
        importer.parse_dump("items: [\n", "dump.yaml")


def test_profile_from_objects_shape(app: Any) -> None:
    doc = importer.profile_from_objects("acme", importer.parse_dump(DUMPS["acme"].read_text()), app)
    assert list(doc) == ["tenant", "namespace", "labels", "node_selector", "components", "env", "features",
                         "domains"]  # no secret ref every app component shares: each keeps its own
    assert doc["labels"] == {"plan": "enterprise", "region": "eu-west-1"}  # kubernetes.io/* dropped
    assert doc["node_selector"] == {"devenv.dev/pool": "dedicated", "devenv.dev/tenant": "acme"}
    assert doc["features"] == {"bulk_export": True, "new_checkout": True}
    assert doc["env"] == {"SHOP_CURRENCY": "EUR", "SHOP_TITLE": "ACME Corporation"}  # devenv.yaml defaults left out
    assert doc["components"]["worker"]["env"] == {"WORKER_CONCURRENCY": "8"}  # configMapKeyRef resolved
    assert list(doc["components"]) == list(app.components)
    comps = doc["components"]
    assert comps["scheduler"]["node_selector"] == {"devenv.dev/cron": "true"}  # beyond the tenant's
    assert "secrets" not in comps["scheduler"] and "secrets" not in comps["redis"]
    assert comps["postgres"]["secrets"] == [{"name": "shop-db", "key": "password", "env": "POSTGRES_PASSWORD"}]
    assert doc["domains"] == ["acme.shop.example"]


def test_component_names_prefer_devenv_components(app: Any) -> None:
    """``app.kubernetes.io/name: shop`` + ``component: web`` is web; an unknown one gets a guess."""
    res = importer.import_profile("acme", importer.parse_dump(DUMPS["acme"].read_text()), app)
    assert res.profile["components"]["web"]["replicas"] == 3
    objs = [_deploy("acme-wroker", "tenant-acme", "registry.example/w:1")]
    with pytest.raises(DevenvError, match="no Deployment or StatefulSet"):
        importer.import_profile("acme", objs, app)
    objs.append(_deploy("acme-web", "tenant-acme", "registry.example/web:1"))
    res = importer.import_profile("acme", objs, app)
    assert any("did you mean 'worker'" in n for n in res.notes)
    assert res.profile["components"]["worker"] == {"enabled": False}


def test_several_namespaces_need_a_choice(app: Any) -> None:
    objs = [_deploy("web", "tenant-a", "x/web:1"), _deploy("web", "tenant-b", "x/web:2")]
    with pytest.raises(DevenvError, match="several namespaces"):
        importer.import_profile("a", objs, app)
    res = importer.import_profile("b", objs, app, namespace="tenant-b")
    assert res.profile["components"]["web"]["image"] == "x/web:2"


def test_rollout_in_progress_pins_no_digest(app: Any) -> None:
    objs = [_deploy("web", "ns", "x/web:1"), _pod("web", "x/web@sha256:" + "a" * 64),
            _pod("web", "x/web@sha256:" + "b" * 64)]
    assert importer.profile_from_objects("t", objs, app)["components"]["web"]["image"] == "x/web:1"
    objs.pop()
    assert importer.profile_from_objects("t", objs, app)["components"]["web"]["image"] == f"x/web:1@sha256:{'a' * 64}"


def test_env_from_unknown_secret_is_reported(app: Any) -> None:
    d = _deploy("web", "ns", "x/web:1")
    d["spec"]["template"]["spec"]["containers"][0]["envFrom"] = [{"secretRef": {"name": "elsewhere"}}]
    res = importer.import_profile("t", [d], app)
    assert any("envFrom Secret elsewhere is not in the dump" in n for n in res.notes)


def test_yaml_is_stable_and_reads_back(app: Any) -> None:
    doc = importer.profile_from_objects("globex", importer.parse_dump(DUMPS["globex"].read_text()), app)
    a = importer.profile_yaml(doc, "head\nline")
    assert a == importer.profile_yaml(doc, "head\nline")
    assert a.startswith("# head\n# line\ntenant: globex\n")
    assert "*id" not in a and "&id" not in a
    assert yaml.safe_load(a) == yaml.safe_load(yaml.safe_dump(doc))
    assert "  - {name: shop-db, key: password, env: DATABASE_PASSWORD}" in a
    assert importer.strip_header(a).startswith("tenant: globex")


@pytest.mark.parametrize("bad", ["../etc", "Acme", "", "a/b"])
def test_tenant_names_are_plain(bad: str) -> None:
    with pytest.raises(DevenvError):
        importer.check_tenant_name(bad)


def test_write_atomic_leaves_no_temp_file(tmp_path: Path) -> None:
    target = tmp_path / "profiles" / "t.yaml"
    importer.write_atomic(target, "a: 1\n")
    importer.write_atomic(target, "a: 2\n")
    assert target.read_text() == "a: 2\n" and [p.name for p in target.parent.iterdir()] == ["t.yaml"]


# --------------------------------------------------------------------------- live path contract


class FakeKubectl:
    """Answers the live import's kubectl calls from the acme fixture, recording every argv."""

    def __init__(self, pods_forbidden: bool = True) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.pods_forbidden = pods_forbidden
        objs = dump_objects("acme")
        self.main = yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": [
            o for o in objs if o["kind"] not in ("Secret", "Namespace")]})
        self.ns = yaml.safe_dump(next(o for o in objs if o["kind"] == "Namespace"
                                      and o["metadata"]["name"] == "tenant-acme"))
        self.keys = "".join(f"{o['metadata']['name']} {' '.join(sorted(o['data']))}\n"
                            for o in objs if o["kind"] == "Secret")

    def run(self, argv: Any, *, check: bool = True, **_: Any) -> Result:
        argv = tuple(str(a) for a in argv)
        self.calls.append(argv)
        verb = next(a for a in argv[1:] if not a.startswith("-") and argv[argv.index(a) - 1] not in
                    ("--context", "-n", "-o"))
        assert verb == "get", argv
        if "secret" in argv:
            return Result(argv, 0, self.keys, "")
        if "ns" in argv:
            return Result(argv, 0, self.ns, "")
        if "pod" in argv:
            return Result(argv, 1, "", "Forbidden") if self.pods_forbidden else Result(argv, 0, "items: []", "")
        return Result(argv, 0, self.main, "")


def test_live_argv_is_read_only_get() -> None:
    for argv in importer.live_argv("prod-eu", "tenant-acme"):
        assert argv[0] == "kubectl" and argv[1:3] == ["--context", "prod-eu"]
        assert "get" in argv and not MUTATING & set(argv)
        out = argv[argv.index("-o") + 1]
        if "secret" in argv:
            assert out.startswith("go-template=") and "{{$v}}" not in out  # keys printed, values never


def test_fetch_live_matches_the_file_import(app: Any) -> None:
    fake = FakeKubectl()
    objects, notes = importer.fetch_live(fake, "prod-eu", "tenant-acme")  # type: ignore[arg-type]
    assert len(fake.calls) == 4 and any("pods" in n for n in notes)
    live = importer.profile_from_objects("acme", objects, app)
    dump = importer.profile_from_objects("acme", importer.parse_dump(DUMPS["acme"].read_text()), app)
    assert live == dump


def test_import_command_live_dry_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    root = make_project(tmp_path / "shop")
    monkeypatch.setenv("DEVENV_ROOT", str(root))
    fake = FakeKubectl(pods_forbidden=False)
    args = argparse.Namespace(tenant="acme", from_file=None, context="prod-eu", namespace=None,
                              yes=False, dry_run=True)
    assert import_.run(args, runner=fake) == 0  # type: ignore[arg-type]
    out = capsys.readouterr()
    assert "from kubectl context prod-eu, namespace tenant-acme" in out.out  # namespace from the profile
    assert all(c[1:3] == ("--context", "prod-eu") for c in fake.calls)
    assert_no_secret(out.out + out.err, "acme", "live import output")


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl not installed")
def test_secret_keys_template_prints_no_value() -> None:
    """kubectl itself evaluates the template on a client-side Secret: keys out, values not."""
    res = subprocess.run(["kubectl", "create", "secret", "generic", "s1", "--from-literal=password=v4lue-XYZ",
                          "--from-literal=user=u5er-XYZ", "--dry-run=client",
                          "-o", f"go-template={importer.SECRET_KEYS_ITEM}"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "s1 password user\n"
    assert importer.secrets_from_keys_listing(res.stdout, "ns")[0]["keys"] == ["password", "user"]


def _deploy(name: str, ns: str, image: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": name, "image": image}]}}}}


def _pod(app_label: str, image_id: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": f"{app_label}-x", "namespace": "ns",
                                                            "labels": {"app": app_label}},
            "status": {"containerStatuses": [{"name": app_label, "imageID": image_id}]}}


# --------------------------------------------------------------------------- a big List read in pieces
#
# ``devenv import`` cuts a big ``kubectl get -o yaml`` List at its column-0 ``- `` item lines, reads
# the pieces in forked children, and keeps the answer only when the pieces join into one List.

ITEMS = "".join(f"- item{i:02d}\n" for i in range(12))  # 9 characters an item


@pytest.mark.parametrize(("text", "count", "expected"), [
    # evenly by size: each cut at the first item at or after i/count of the text
    ("apiVersion: v1\nitems:\n" + ITEMS + "kind: List\n", 3,
     ["apiVersion: v1\nitems:\n- item00\n- item01\n- item02\n",
      "items:\n- item03\n- item04\n- item05\n- item06\n- item07\n- item08\n",
      "items:\n- item09\n- item10\n- item11\nkind: List\n"]),
    # a header longer than a piece's share: the first piece still holds the first item, and only it
    ("apiVersion: v1\nmetadata: {note: " + "x" * 100 + "}\nitems:\n- a\n- b\n- c\nkind: List\n", 2,
     ["apiVersion: v1\nmetadata: {note: " + "x" * 100 + "}\nitems:\n- a\n", "items:\n- b\n- c\nkind: List\n"]),
    # ``items`` the first key, or after a blank first line
    ("items:\n- a\n- b\n- c\n- d\nkind: List\n", 2, ["items:\n- a\n- b\n- c\n", "items:\n- d\nkind: List\n"]),
    ("\nitems:\n- a\n- b\n- c\n- d\nkind: List\n", 2, ["\nitems:\n- a\n- b\n- c\n", "items:\n- d\nkind: List\n"]),
    # another column-0 list before ``items``: the cut is still at an item
    ("finalizers:\n- f\nitems:\n- a\n- b\n- c\n- d\nkind: List\n", 2,
     ["finalizers:\n- f\nitems:\n- a\n", "items:\n- b\n- c\n- d\nkind: List\n"]),
    # a long last item: fewer pieces than asked
    ("kind: List\nitems:\n- a\n- b\n- c\n- d\n- e\n- f\n- g\n- h\n- i\n- j\n- " + "x" * 100 + "\n", 4,
     ["kind: List\nitems:\n- a\n- b\n- c\n- d\n- e\n- f\n", "items:\n- g\n- h\n- i\n- j\n- " + "x" * 100 + "\n"]),
    # two documents: the items list the cut falls in, the first one's or the second one's
    ("kind: List\nitems:\n- a1\n- a2\n- a3\n- a4\n- a5\n- a6\n---\nkind: List\nitems:\n- b1\n", 2,
     ["kind: List\nitems:\n- a1\n- a2\n- a3\n- a4\n",
      "items:\n- a5\n- a6\n---\nkind: List\nitems:\n- b1\n"]),
    ("kind: List\nitems:\n- a1\n---\nkind: List\nitems:\n- b1\n- b2\n- b3\n- b4\n- b5\n- b6\n", 2,
     ["kind: List\nitems:\n- a1\n---\nkind: List\nitems:\n- b1\n", "items:\n- b2\n- b3\n- b4\n- b5\n- b6\n"]),
], ids=["even", "long-header", "items-first", "blank-first-line", "other-list-first", "long-last-item",
        "big-first-document", "big-second-document"])
def test_a_list_is_cut_into_pieces_at_item_lines(text: str, count: int, expected: list[str]) -> None:
    from devenv.model.dumpyaml import pieces

    got = pieces(text, count)
    assert got == expected
    assert got[0] + "".join(p.removeprefix("items:\n") for p in got[1:]) == text  # nothing lost or doubled


@pytest.mark.parametrize("text", [
    "kind: List\nitems:\n- " + "x" * 100 + "\n",  # one item: one piece
    "kind: List\nthings:\n- a\n- b\n- c\n- d\n",  # no items list
    "kind: List\nitems: [a, b, c, d, e, f, g, h]\n",  # not a column-0 list
    "kind: List\nitems:\n  - a\n  - b\n  - c\n  - d\n",  # indented items
], ids=["one-item", "no-items", "flow-items", "indented-items"])
def test_a_text_without_column_0_items_to_cut_at_is_not_cut(text: str) -> None:
    from devenv.model.dumpyaml import pieces

    assert pieces(text, 2) is None


def piece(keys: list[str], kind: object = None, results: list[object] | None = None) -> Any:
    from devenv.model.dumpyaml import Piece

    return Piece(keys, kind, results if results is not None else [keys[0]])


def test_pieces_that_make_one_list_join_their_results_in_order() -> None:
    from devenv.model.dumpyaml import joined

    # kubectl's order: apiVersion, items, kind, metadata (the kind is in the last piece)
    first = piece(["apiVersion", "items"], None, [1, 2])
    assert joined(first, piece(["items", "kind", "metadata"], "List", [3])) == [1, 2, 3]
    assert joined(first, piece(["items"], None, [3]), piece(["items"], None, []),
                  piece(["items", "kind"], "ConfigMapList", [4, 5])) == [1, 2, 3, 4, 5]
    assert joined(piece(["kind", "items"], "List", [1]), piece(["items"], None, [2]),
                  piece(["items", "metadata"], None, [3])) == [1, 2, 3]


@pytest.mark.parametrize("parts", [
    [["kind", "items"]],  # one piece is no split
    [["kind", "items"], None],  # a piece that failed
    [None, ["items", "kind"]],
    [["items", "kind"], ["items"]],  # the first piece does not end with items
    [["kind", "items"], ["kind"]],  # a later piece does not start with items
    [["kind", "items"], ["items"], ["kind"]],
    [["kind", "items"], ["items", "x"], ["items"]],  # a middle piece holds another key
    [["kind", "items"], ["items"], ["items", "x"], ["items"]],
    [["kind", "metadata", "items"], ["items", "metadata"]],  # a key twice
    [["apiVersion", "kind", "items"], ["items", "kind"]],
    [["metadata", "kind", "items"], ["items"], ["items", "kind"]],
    [["items"], ["items", "apiVersion", "apiVersion"]],
], ids=["one", "failed-last", "failed-first", "first-not-ending-with-items", "second-not-items",
        "last-not-items", "middle-with-key", "second-middle-with-key", "metadata-twice", "kind-twice",
        "kind-twice-of-three", "twice-in-last"])
def test_pieces_that_do_not_make_one_list_are_a_miss(parts: list[list[str] | None]) -> None:
    from devenv.model.dumpyaml import joined

    assert joined(*[piece(p, "List") if p is not None else None for p in parts]) is None


def test_the_kind_of_the_joined_list_is_read_where_it_is_written() -> None:
    from devenv.model.dumpyaml import joined

    assert joined(piece(["apiVersion", "items"], None), piece(["items"], None),
                  piece(["items", "kind"], "Deployment")) is None  # not a List
    assert joined(piece(["apiVersion", "items"], None), piece(["items"], None),
                  piece(["items", "kind"], "List", ["z"])) == ["apiVersion", "items", "z"]
    assert joined(piece(["kind", "items"], "List"), piece(["items", "metadata"], None, ["m"])) == ["kind", "m"]
    assert joined(piece(["items"], None), piece(["items"], None)) is None  # no kind at all


def big_configmaps(count: int, value: str = "x" * 120, tail: str = "kind: List\n") -> str:
    item = "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c{i:05d}\n  data: {{k: \"{value}\"}}\n"
    return "apiVersion: v1\nitems:\n" + "".join(item.format(i=i, value=value) for i in range(count)) + tail


def single_threaded() -> None:
    import threading

    if threading.active_count() != 1:
        pytest.skip("a fork needs a single-threaded process; another test left a thread running")


def test_a_list_of_exactly_the_split_size_is_read_in_pieces_and_one_byte_less_is_not() -> None:
    from devenv.model.dumpyaml import SPLIT_MIN_BYTES, load_stream, read_list_split

    single_threaded()
    base = big_configmaps(5000, tail="kind: List\nmetadata: {resourceVersion: ''}\n")
    assert len(base) < SPLIT_MIN_BYTES
    text = base.replace("resourceVersion: ''", "resourceVersion: '" + "7" * (SPLIT_MIN_BYTES - len(base)) + "'")
    assert len(text) == SPLIT_MIN_BYTES
    names = [f"c{i:05d}" for i in range(5000)]
    assert read_list_split(text, "d.yaml", lambda item: [item["metadata"]["name"]], count=2) == names
    assert read_list_split(text, "d.yaml", lambda item: [item], count=2) == load_stream(
        text, "d.yaml", positions=False)[0]["items"]
    assert read_list_split(text, "d.yaml", lambda item: [item], count=1) is None  # one process asked for
    assert read_list_split(text[:-2] + "\n", "d.yaml", lambda item: [item], count=2) is None


def test_a_list_whose_values_hold_item_like_lines_is_read_whole() -> None:
    """A quoted value may hold a line starting with ``- `` at column 0: a cut there leaves an
    unclosed quote, and the import reads the dump in one piece instead, with the same answer."""
    from devenv.model.dumpyaml import pieces, read_list_split

    single_threaded()
    text = big_configmaps(3001, value="y" * 300 + "\n- z")
    assert (pieces(text, 2) or [""])[0].endswith("yyy\n")  # the cut is inside a quoted value
    assert read_list_split(text, "d.yaml", lambda item: [item], count=2) is None
    objects = importer.parse_dump(text, "d.yaml", positions=False)
    assert [o["metadata"]["name"] for o in objects] == [f"c{i:05d}" for i in range(3001)]
    assert objects[0]["data"] == {"k": "y" * 300 + " - z"}
    assert objects == importer.parse_dump(text, "d.yaml")


def test_a_piece_that_fails_leaves_no_child_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from devenv.model import dumpyaml

    single_threaded()
    counter = CountingFork()
    monkeypatch.setattr(dumpyaml, "os", counter)
    text = big_configmaps(9000).replace("  kind: ConfigMap\n", "  kind: ConfigMap\n  kind: Again\n", 1)
    assert dumpyaml.read_list_split(text, "d.yaml", lambda item: [item], count=2) is None  # the first piece: a duplicate key
    assert len(counter.pids) == 1
    with pytest.raises(ChildProcessError):
        os.waitpid(counter.pids[0], os.WNOHANG)  # the child reading the second piece was stopped and reaped


class CountingFork:
    """``os`` as the dump reader sees it, counting the processes it forks (in this process)."""

    def __init__(self) -> None:
        import os

        self.os, self.forks, self.pids = os, 0, list[int]()

    def fork(self) -> int:
        self.forks += 1
        pid = self.os.fork()
        self.pids.append(pid)
        return pid

    def __getattr__(self, name: str) -> Any:
        return getattr(self.os, name)


def test_a_split_read_forks_no_more_than_its_size_and_the_cap_allow(monkeypatch: pytest.MonkeyPatch) -> None:
    """One process per piece of at least 512 KiB, at most 8 pieces, whatever ``count`` asks."""
    from devenv.model import dumpyaml

    single_threaded()
    counter = CountingFork()
    monkeypatch.setattr(dumpyaml, "os", counter)
    text = big_configmaps(6000)  # 1.2 MB: two pieces
    names = [f"c{i:05d}" for i in range(6000)]
    assert dumpyaml.read_list_split(text, "d.yaml", lambda item: [item["metadata"]["name"]], count=8) == names
    assert counter.forks == 1
    counter.forks = 0
    text = big_configmaps(2300, value="x" * 2000)  # 4.8 MB: room for nine pieces, capped at eight
    assert len(text) // dumpyaml.PIECE_MIN_BYTES == 9
    assert dumpyaml.read_list_split(text, "d.yaml", lambda item: [item["metadata"]["name"][1:]], count=16) == [
        f"{i:05d}" for i in range(2300)]
    assert counter.forks == 7


def test_a_big_stream_of_two_list_documents_gives_every_object_of_both() -> None:
    """``kubectl get -o yaml`` dumps written one after the other: the cut for a split read falls in
    the second List, so the first piece holds two documents. That is not one List to split: the
    dump is read whole, and no object of either List is lost."""
    from devenv.model.dumpyaml import SPLIT_MIN_BYTES, read_list_split

    single_threaded()
    def a_list(count: int, prefix: str) -> str:  # kind first, as kubectl writes it
        items = big_configmaps(count, tail="").partition("items:\n")[2].replace("name: c", f"name: {prefix}")
        return "apiVersion: v1\nkind: List\nitems:\n" + items

    text = a_list(1000, "c") + "---\n" + a_list(5000, "d")
    assert len(text) >= SPLIT_MIN_BYTES
    assert read_list_split(text, "d.yaml", lambda item: [item["metadata"]["name"]], count=2) is None
    names = [o["metadata"]["name"] for o in importer.parse_dump(text, "d.yaml", positions=False)]
    assert names == [f"c{i:05d}" for i in range(1000)] + [f"d{i:05d}" for i in range(5000)]


def test_a_big_dump_whose_items_header_is_inside_a_quoted_value_is_refused_cleanly() -> None:
    """A broken dump: the only ``items:`` line sits inside a quoted value, and a ``- x`` line after
    a mapping. The split read must not take the first piece for a List (a KeyError, a traceback):
    the import says where the YAML is broken and how to save a dump."""
    from devenv.model.dumpyaml import read_list_split

    single_threaded()
    text = 'a: "\nitems:\n- q"\nb: "' + "y" * 1_200_000 + '"\n- x\n'
    assert read_list_split(text, "d.yaml", lambda item: [item], count=2) is None
    with pytest.raises(DevenvError) as err:
        importer.parse_dump(text, "d.yaml", positions=False)
    assert (err.value.message, err.value.hint) == ("d.yaml:5: not valid YAML: did not find expected key",
                                                   "save it with `kubectl get ... -o yaml > dump.yaml`")


def test_a_split_read_refuses_an_alias_bomb_the_one_piece_read_refuses() -> None:
    """Each piece of a split read spends its share of the whole text's value budget, so aliases
    spread over the pieces are refused as they are in one piece (each piece alone would fit the
    whole floor of 50,000 values): the import names the line and the fix either way."""
    from devenv.model.dumpyaml import load_stream, read_list_split

    def bomb(i: int) -> str:
        return (f"- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: b{i}\n  data:\n"
                f"    base: &p{i} [" + ", ".join(["a"] * 1000) + "]\n"
                "    many: [" + ", ".join([f"*p{i}"] * 300) + "]\n")

    single_threaded()
    items = big_configmaps(3000, tail="").partition("items:\n")[2]
    more = items.replace("name: c", "name: d")
    text = "apiVersion: v1\nkind: List\nitems:\n" + bomb(0) + items + bomb(1) + more
    too_many = ": the YAML expands to too many values (aliases, *name, repeat whole subtrees)"
    with pytest.raises(DevenvError, match="too many values"):
        load_stream(text, "d.yaml", positions=False)
    assert read_list_split(text, "d.yaml", lambda item: [item["metadata"]["name"]], count=2) is None
    with pytest.raises(DevenvError) as err:
        importer.parse_dump(text, "d.yaml", positions=False)
    assert err.value.message.startswith("d.yaml:") and err.value.message.endswith(too_many)


class ExitRecorder(CountingFork):
    """``os`` as the dump reader sees it, recording (in a file, from the forked reader) the status
    each child leaves with. The child's pipe is held open until then, so the parent, which waits for
    the pipe to close, reads the record only once the child has written it."""

    def __init__(self, record: Path) -> None:
        super().__init__()
        self.record, self.held = record, list[int]()

    def fdopen(self, fd: int, *args: Any) -> Any:
        self.held.append(self.os.dup(fd))
        return self.os.fdopen(fd, *args)

    def _exit(self, code: Any) -> None:
        with self.record.open("a") as f:
            f.write(f"{code!r}\n")
        # a status os._exit refuses would leave the fork running the caller's code: stopped here instead
        self.os._exit(code if isinstance(code, int) else 99)


def test_a_forked_reader_always_leaves_by_os_exit_with_a_status(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The child reading a piece must end in ``os._exit`` with a whole-number status, whether it
    sent its piece or refused it: anything else raises inside the fork, which then carries on the
    parent's code (the rest of the command, its exit handlers) as a second process."""
    from devenv.errors import DevenvError
    from devenv.model import dumpyaml

    single_threaded()
    record = tmp_path / "exits"
    monkeypatch.setattr(dumpyaml, "os", ExitRecorder(record))
    text = big_configmaps(6000)
    names = [f"c{i:05d}" for i in range(6000)]
    assert dumpyaml.read_list_split(text, "d.yaml", lambda item: [item["metadata"]["name"]], count=2) == names

    def refuse_last(item: dict[str, Any]) -> list[str]:
        if item["metadata"]["name"] == "c05999":  # in the child's piece
            raise DevenvError("no", "")
        return [item["metadata"]["name"]]

    assert dumpyaml.read_list_split(text, "d.yaml", refuse_last, count=2) is None
    assert record.read_text() == "0\n1\n"  # sent its piece; refused it
