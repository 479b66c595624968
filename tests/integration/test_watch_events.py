"""The watcher on real file events (watchdog + inotify on tmp dirs), waiting for batches, not time.

"Exactly one batch" is proven without sleeping: after the action under test, a *sentinel* file is
written and batches are collected until the sentinel shows up. Kernel events arrive in order, so
any late event of the action would land in a batch before (or with) the sentinel's.
"""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from devenv.model.loader import load_project
from devenv.model.resolve import resolve
from devenv.watch.coalesce import Batch
from devenv.watch.ignore import DockerIgnoreCache
from devenv.watch.mapping import plan_changes, watch_roots
from devenv.watch.observer import Watcher

TIMEOUT = 30.0
SENTINEL = "zz-sentinel.txt"


class Batches:
    def __init__(self) -> None:
        self.q: queue.Queue[Batch] = queue.Queue()

    def __call__(self, batch: Batch) -> None:
        self.q.put(batch)

    def next(self, timeout: float = TIMEOUT) -> Batch:
        return self.q.get(timeout=timeout)

    def until_sentinel(self, root: Path) -> list[Batch]:
        """Write the sentinel and return every batch up to and including the one holding it."""
        sentinel = root / SENTINEL
        sentinel.write_text(str(os.getpid()))
        seen: list[Batch] = []
        while not seen or sentinel not in seen[-1]:
            seen.append(self.next())
        return seen


def without_sentinel(batches: list[Batch]) -> list[Batch]:
    cleaned = [{p: k for p, k in b.items() if p.name != SENTINEL} for b in batches]
    return [b for b in cleaned if b]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "ctx"
    (root / "src").mkdir(parents=True)
    (root / "src" / "app.py").write_text("print('v1')\n")
    return root


@pytest.fixture
def watch(tree: Path):
    """Start a watcher on ``tree``; yields the batch collector; always stops the watcher."""
    started: list[Watcher] = []

    def start(*roots: Path, **kw: object) -> Batches:
        sink = Batches()
        w = Watcher(list(roots) or [tree], sink, **kw)  # type: ignore[arg-type]
        w.start()
        started.append(w)
        return sink

    yield start
    for w in started:
        w.stop()


def test_one_save_of_a_1mb_file_in_chunks_is_one_batch(tree: Path, watch):
    target = tree / "src" / "big.bin"
    target.write_bytes(b"old")
    sink = watch()
    data = os.urandom(1 << 20)
    with open(target, "wb") as f:  # truncate + chunked write, as editors that save in place do
        for i in range(0, len(data), 16384):
            f.write(data[i:i + 16384])
            f.flush()
    batches = without_sentinel(sink.until_sentinel(tree))
    assert batches == [{target: "modified"}]


def test_rename_based_save_reports_the_target_not_the_temp(tree: Path, watch):
    target = tree / "src" / "app.py"
    sink = watch()
    tmp = tree / "src" / ".app.py.k3j2h1"  # an atomic-write temp name no noise rule knows
    tmp.write_text("print('v2')\n")
    os.replace(tmp, target)
    batches = without_sentinel(sink.until_sentinel(tree))
    assert len(batches) == 1
    assert set(batches[0]) == {target}
    assert batches[0][target] != "deleted"


def test_a_5000_file_checkout_is_one_batch(tree: Path, watch):
    sink = watch(max_wait=60.0)
    code = (
        "import sys, pathlib\n"
        "root = pathlib.Path(sys.argv[1])\n"
        "for i in range(5000):\n"
        "    d = root / f'pkg{i % 50}'\n"
        "    d.mkdir(exist_ok=True)\n"
        "    (d / f'm{i}.py').write_text('x = %d\\n' % i)\n"
    )
    (tree / "co").mkdir()
    # another process writes, as git does: the watcher's threads do not share its GIL
    subprocess.run([sys.executable, "-c", code, str(tree / "co")], check=True)
    batches = without_sentinel(sink.until_sentinel(tree))
    assert [len(b) for b in batches] == [5000]
    files = {p for p in batches[0] if p.suffix == ".py"}
    assert len(files) == 5000
    assert all(batches[0][p] in ("created", "modified") for p in files)


def test_ignored_paths_produce_no_batch(tree: Path, watch):
    (tree / ".dockerignore").write_text("logs/\n*.log\n")
    (tree / "logs").mkdir()
    (tree / ".git").mkdir()
    sink = watch(is_ignored=DockerIgnoreCache())
    (tree / "logs" / "app.txt").write_text("x")
    (tree / "debug.log").write_text("x")
    (tree / ".git" / "index").write_text("x")
    (tree / "src" / "__pycache__").mkdir()
    (tree / "src" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"x")
    (tree / "src" / ".app.py.swp").write_bytes(b"x")
    (tree / "src" / "app.py~").write_bytes(b"x")
    assert without_sentinel(sink.until_sentinel(tree)) == []


def test_deleting_a_directory_reports_it_and_its_files(tree: Path, watch):
    (tree / "src" / "pkg").mkdir()
    (tree / "src" / "pkg" / "a.py").write_text("a")
    sink = watch()
    shutil.rmtree(tree / "src" / "pkg")
    [batch] = without_sentinel(sink.until_sentinel(tree))
    assert batch[tree / "src" / "pkg"] == "deleted"
    assert batch[tree / "src" / "pkg" / "a.py"] == "deleted"


def test_moving_a_file_reports_source_gone_and_destination_created(tree: Path, watch):
    sink = watch()
    os.rename(tree / "src" / "app.py", tree / "src" / "main.py")
    [batch] = without_sentinel(sink.until_sentinel(tree))
    assert batch == {tree / "src" / "app.py": "moved", tree / "src" / "main.py": "created"}


def test_a_symlink_loop_neither_hangs_nor_crashes(tree: Path, watch):
    (tree / "src" / "loop").symlink_to(tree / "src")
    (tree / "src" / "self").symlink_to("self")
    result: list[Batches] = []
    t = threading.Thread(target=lambda: result.append(watch()), daemon=True)
    t.start()
    t.join(timeout=TIMEOUT)
    assert not t.is_alive(), "starting the watcher on a symlink loop hung"
    sink = result[0]
    (tree / "src" / "app.py").write_text("print('v3')\n")
    [batch] = without_sentinel(sink.until_sentinel(tree))
    assert batch == {tree / "src" / "app.py": "modified"}


def test_nested_roots_are_watched_once(tree: Path, watch):
    inner = tree / "src"
    sink = Batches()
    w = Watcher([tree, inner, inner], sink)
    assert w.roots == [tree]
    w.start()
    try:
        (inner / "app.py").write_text("v4")
        batches = without_sentinel(sink.until_sentinel(tree))
    finally:
        w.stop()
    assert batches == [{inner / "app.py": "modified"}]  # one observer event, not one per root


def test_nested_root_keeps_files_the_outer_dockerignore_drops(tmp_path: Path):
    outer = tmp_path / "base"
    inner = outer / "web"
    inner.mkdir(parents=True)
    (outer / ".dockerignore").write_text("web\n")
    sink = Batches()
    with Watcher([outer, inner], sink):
        (inner / "view.py").write_text("x")
        (outer / "lib.py").write_text("x")
        batches = without_sentinel(sink.until_sentinel(outer))
    assert batches == [{inner / "view.py": "created", outer / "lib.py": "created"}]


def test_file_and_dir_counts_skip_ignored(tree: Path):
    (tree / ".git").mkdir()
    (tree / ".git" / "HEAD").write_text("x")
    (tree / "node_modules" / "p").mkdir(parents=True)
    (tree / "node_modules" / "p" / "i.js").write_text("x")
    (tree / ".dockerignore").write_text("node_modules\n")
    (tree / "src" / "x.pyc").write_bytes(b"x")
    w = Watcher([tree], lambda b: None, is_ignored=DockerIgnoreCache())
    w.start()
    w.stop()
    assert w.file_count() == 2  # src/app.py and .dockerignore
    assert w.dir_count() == 2  # ctx and ctx/src


def test_missing_roots_are_reported_not_fatal(tmp_path: Path):
    w = Watcher([tmp_path / "nope"], lambda b: None)
    with w:
        assert w.missing == [tmp_path / "nope"]


def test_end_to_end_template_save_plans_a_sync(sample: Path):
    proj, _ = load_project(sample)
    specs = [resolve(proj, t) for t in ("acme", "globex")]
    template = proj.app.images["web"].context / "templates" / "index.html"
    sink = Batches()
    ignore = DockerIgnoreCache()
    with Watcher(watch_roots(proj.app, specs), sink, is_ignored=ignore):
        template.write_text(template.read_text() + "<!-- edited -->\n")
        batch = sink.next()
    plan = plan_changes(proj.app, specs, batch, is_ignored=ignore)
    [sync] = plan.syncs
    assert (sync.component, sync.tenants) == ("web", ("acme", "globex"))
    assert sync.files == [(template, "/srv/web/templates/index.html")]
