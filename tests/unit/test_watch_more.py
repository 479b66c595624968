"""The watcher's lifecycle with real file events, its kernel-limit advice at the boundaries, a
rebuild asked for by name, edits made while not watching, where a synced file lands, what a
rule's ``ignore`` drops, and a ``.dockerignore`` edit taking effect. Written against the survivors
of bench/mutation.py (watch group; one file, so its test selection stays the same between runs)."""

from __future__ import annotations

import errno
import os
import queue
from pathlib import Path

import pytest
from watchdog.observers import Observer

from devenv.errors import DevenvError
from devenv.model.loader import load_project
from devenv.model.resolve import resolve
from devenv.model.types import App, ImageDef, TenantSpec, WatchRule
from devenv.watch import observer as observer_mod
from devenv.watch.ignore import DockerIgnoreCache
from devenv.watch.initial import changed_since
from devenv.watch.mapping import _rule_ignores, container_path, plan_rebuild
from devenv.watch.observer import Watcher, check_inotify, sysctl_fix

Batches = queue.Queue[dict[Path, str]]


def test_plan_rebuild_redeploys_the_tenants_that_build_each_image(sample: Path) -> None:
    proj, _ = load_project(sample)
    specs: list[TenantSpec] = [resolve(proj, t) for t in ("acme", "globex", "initech")]
    app: App = proj.app
    reasons = {"web": "asked for", "api": "asked for"}
    p = plan_rebuild(app, specs, reasons)
    assert p.rebuilds == reasons and p.rebuilds is not reasons
    assert p.redeploys == {"web": ("acme", "globex", "initech"), "api": ("acme", "globex")}  # initech runs no api
    assert p.syncs == [] and not p.empty
    assert plan_rebuild(app, specs[2:], {"api": "asked for"}).redeploys == {}


@pytest.mark.parametrize(("needed", "limits", "expected"), [
    (500, (1000, 16), None),  # exactly half the watches, exactly 16 instances: enough
    (501, (1000, 16), "fs.inotify.max_user_watches=1000 is tight (editors and other tools share it) "
                      "for 501 watched directories.\n"),
    (1000, (1000, 128), "fs.inotify.max_user_watches=1000 is too low for 1000 watched directories.\n"),
    (999, (1000, 128), "fs.inotify.max_user_watches=1000 is tight (editors and other tools share it) "
                       "for 999 watched directories.\n"),
    (10, (1000, 15), "fs.inotify.max_user_instances=15 is too low.\n"),
    (2000, (1000, 8), "fs.inotify.max_user_watches=1000 is too low for 2000 watched directories; "
                      "fs.inotify.max_user_instances=8 is too low.\n"),
])
def test_check_inotify_at_its_boundaries(needed: int, limits: tuple[int, int], expected: str | None) -> None:
    got = check_inotify(needed, limits)
    assert got == (None if expected is None else expected + sysctl_fix())


def test_check_inotify_reads_this_machine_when_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(observer_mod, "inotify_limits", lambda: (100, 128))
    assert check_inotify(100) is not None and check_inotify(10) is None
    monkeypatch.setattr(observer_mod, "inotify_limits", lambda: None)  # no inotify here (macOS)
    assert check_inotify(10**9) is None


def test_sysctl_fix_sets_both_limits_now_and_for_every_boot() -> None:
    fix = sysctl_fix().splitlines()
    assert fix[0] == "fix now:      sudo sysctl fs.inotify.max_user_watches=524288 fs.inotify.max_user_instances=512"
    assert fix[1] == ("fix for good: printf 'fs.inotify.max_user_watches=524288\\nfs.inotify.max_user_instances=512"
                      "\\n' | sudo tee /etc/sysctl.d/60-devenv-inotify.conf && sudo sysctl --system")


@pytest.mark.parametrize(("code", "message", "hint"), [
    (errno.ENOSPC, "the inotify watch limit was reached watching 3 directories", None),
    (errno.EMFILE, "the inotify instance limit was reached", None),
    (errno.EACCES, "cannot watch the build contexts: [Errno 13] refused", "check the paths exist and are readable"),
])
def test_a_kernel_refusal_at_start_is_a_devenv_error_and_leaves_nothing_running(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, message: str, hint: str | None) -> None:
    for d in ("a", "a/b"):
        (tmp_path / d).mkdir()

    def refuse(self: object) -> None:
        raise OSError(code, "refused")

    monkeypatch.setattr(Observer, "start", refuse)
    w = Watcher([tmp_path], lambda b: None)
    with pytest.raises(DevenvError) as err:
        w.start()
    assert err.value.message == message
    assert err.value.hint == (hint or sysctl_fix())
    assert w._observer is None
    w.stop()  # nothing to stop: no error


def _watch(tmp_path: Path, got: Batches, **kw: object) -> Watcher:
    return Watcher([tmp_path], got.put, quiet=0.05, max_wait=2.0, **kw)  # type: ignore[arg-type]


def test_start_counts_files_and_directories_and_lists_missing_roots(tmp_path: Path) -> None:
    (tmp_path / "src" / ".git" / "x").mkdir(parents=True)
    (tmp_path / "src" / "a.py").write_text("a")
    (tmp_path / "src" / ".git" / "x" / "i.js").write_text("i")
    (tmp_path / "b.txt").write_text("b")
    w = Watcher([tmp_path, tmp_path / "gone"], lambda b: None)
    w.start()
    try:
        assert (w.file_count(), w.dir_count()) == (2, 2)  # the root and src/: .git is noise
        assert w.missing == [] and w.roots == [tmp_path]
    finally:
        w.stop()
    alone = Watcher([tmp_path / "gone"], lambda b: None)
    alone.start()
    try:
        assert alone.missing == [tmp_path / "gone"]
    finally:
        alone.stop()


def test_events_flow_until_stop_and_none_after(tmp_path: Path) -> None:
    got: Batches = queue.Queue()
    w = _watch(tmp_path, got)
    with w:
        (tmp_path / "a.txt").write_text("a")
        assert got.get(timeout=5) == {tmp_path / "a.txt": "created"}
    (tmp_path / "b.txt").write_text("b")
    with pytest.raises(queue.Empty):
        got.get(timeout=0.5)
    w.add(str(tmp_path / "c.txt"), "modified")  # a late event of a stopped watcher is dropped
    w.stop()


def test_stop_with_flush_delivers_the_open_batch_and_without_drops_it(tmp_path: Path) -> None:
    for flush in (True, False):
        got: Batches = queue.Queue()
        w = Watcher([tmp_path], got.put, quiet=30.0, max_wait=60.0)
        w.start()
        w.add(str(tmp_path / "x.py"), "modified")
        w.stop(flush=flush)
        if flush:
            assert got.get(timeout=2) == {tmp_path / "x.py": "modified"}
        else:
            with pytest.raises(queue.Empty):
                got.get(timeout=0.3)


def test_editing_dockerignore_while_watching_takes_effect(tmp_path: Path) -> None:
    got: Batches = queue.Queue()
    (tmp_path / ".dockerignore").write_text("*.out\n")
    with _watch(tmp_path, got, is_ignored=DockerIgnoreCache()) as w:
        assert w.ignored(str(tmp_path / "x.log")) is False
        (tmp_path / ".dockerignore").write_text("*.log\n")
        assert got.get(timeout=5) == {tmp_path / ".dockerignore": "modified"}
        assert w.ignored(str(tmp_path / "x.log")) is True
        assert w.ignored(str(tmp_path / "x.out")) is False


# --- paths: edits while not watching, sync targets, rule ignores -------------------------------

OLD = 1_000_000_000.0  # 2001
SINCE = 1_500_000_000.0  # 2017: the image's creation time in these tests


def _context(tmp_path: Path, files: dict[str, float]) -> App:
    ctx = tmp_path / "ctx"
    for rel, mtime in files.items():
        (ctx / rel).parent.mkdir(parents=True, exist_ok=True)
        (ctx / rel).write_text(rel)
        os.utime(ctx / rel, (mtime, mtime))
    img = ImageDef("web", ctx, ctx / "Dockerfile")
    return App("shop", tmp_path, tmp_path / "devenv.yaml", {"web": img}, {})


def _rels(app: App, paths: list[Path]) -> list[str]:
    return [p.relative_to(app.images["web"].context).as_posix() for p in paths]


def test_only_files_newer_than_the_image_count_and_noise_never(tmp_path: Path) -> None:
    new = SINCE + 10
    app = _context(tmp_path, {"Dockerfile": OLD, "src/old.py": OLD, "src/new.py": new, "src/same.py": SINCE,
                              ".git/HEAD": new, "src/.git/index": new, "a/b/.git/x": new,
                              "a/b/__pycache__/m.pyc": new})
    assert _rels(app, changed_since(app, "web", SINCE)) == ["src/new.py"]  # same.py: not *after* it


def test_dockerfile_and_dockerignore_count_even_when_dockerignored(tmp_path: Path) -> None:
    new = SINCE + 10
    app = _context(tmp_path, {"Dockerfile": new, ".dockerignore": new, "x.log": new, "keep.py": new})
    (app.images["web"].context / ".dockerignore").write_text("Dockerfile\n.dockerignore\n*.log\n")
    os.utime(app.images["web"].context / ".dockerignore", (new, new))
    assert _rels(app, changed_since(app, "web", SINCE)) == [".dockerignore", "Dockerfile", "keep.py"]
    same = _context(tmp_path / "other", {"Dockerfile": SINCE})
    assert changed_since(same, "web", SINCE) == []


def test_a_missing_dockerignore_is_never_reported(tmp_path: Path) -> None:
    app = _context(tmp_path, {"Dockerfile": OLD})
    assert _rels(app, changed_since(app, "web", 0.5)) == ["Dockerfile"]


class Spy(DockerIgnoreCache):
    """The real matcher, recording each path it is asked about."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def __call__(self, context: Path, relpath: str) -> bool:
        self.asked.append(relpath)
        return super().__call__(context, relpath)


def test_an_excluded_directory_is_skipped_whole(tmp_path: Path) -> None:
    """The docstring's promise (10,000 files in ~20 ms) rests on never walking excluded trees."""
    new = SINCE + 10
    files = {"Dockerfile": OLD, ".dockerignore": OLD, "src/a.py": new}
    files.update({f"build/out/{i}.o": new for i in range(5)})
    app = _context(tmp_path, files)
    (app.images["web"].context / ".dockerignore").write_text("build\n")
    os.utime(app.images["web"].context / ".dockerignore", (OLD, OLD))
    spy = Spy()
    assert _rels(app, changed_since(app, "web", SINCE, spy)) == ["src/a.py"]
    assert not [p for p in spy.asked if p.startswith("build/")]


def test_container_path_keeps_the_part_below_the_rule() -> None:
    sync = WatchRule("web/static", "sync", "/srv/static")
    assert container_path(sync, "web/static") == "/srv/static"
    assert container_path(sync, "web/static/Xmas/a.css") == "/srv/static/Xmas/a.css"
    glob = WatchRule("web/static/*.css", "sync", "/srv/css")
    assert container_path(glob, "web/static/site.css") == "/srv/css/site.css"
    assert container_path(glob, "web/static") == "/srv/css"  # the glob's directory itself (a deletion)
    deep = WatchRule("web/static/**/*.css", "sync", "/srv/css")
    assert container_path(deep, "web/static/a/b.css") == "/srv/css/a/b.css"


def test_rule_ignore_patterns_are_relative_to_the_rule_and_cover_what_is_under_them() -> None:
    rule = WatchRule("web", "sync", "/srv", ignore=("a/b", "/Xcache/", "lib/*/*.py", "*.pyc"))
    assert _rule_ignores(rule, "web/a/b/c.py")  # a path pattern naming a directory
    assert _rule_ignores(rule, "web/Xcache/f")  # slashes around a pattern do not matter
    assert _rule_ignores(rule, "web/lib/x/m.py")
    assert _rule_ignores(rule, "web/deep/er/m.pyc")  # a bare pattern matches at any depth
    assert not _rule_ignores(rule, "web/a/c.py") and not _rule_ignores(rule, "web/lib/m.py")
    assert not _rule_ignores(rule, "web")
    x = WatchRule("web", "sync", "/srv", ignore=("Xdir",))
    assert _rule_ignores(x, "web/Xdir/f") and not _rule_ignores(x, "web/dir/f")


def test_invalidate_makes_a_dockerignore_edit_effective_at_once(tmp_path: Path) -> None:
    (tmp_path / ".dockerignore").write_text("*.log\n")
    cache = DockerIgnoreCache(recheck=3600)
    assert cache(tmp_path, "a.log") and not cache(tmp_path, "a.tmp2")
    (tmp_path / ".dockerignore").write_text("*.tmp2\n")
    assert cache(tmp_path, "a.log")  # within the recheck period: not re-read yet
    cache.invalidate()
    assert not cache(tmp_path, "a.log") and cache(tmp_path, "a.tmp2")
    (tmp_path / ".dockerignore").write_text("*.log\n")
    cache.invalidate(tmp_path)
    assert cache(tmp_path, "a.log")
    cache.invalidate(tmp_path / "never-asked")  # nothing cached for it: nothing to forget, no error


# --- the observer thread's translation of watchdog events -----------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.added: list[tuple[str, str, bool]] = []

    def add(self, path: str, kind: str, finished: bool = False) -> None:
        self.added.append((path, kind, finished))


def test_each_watchdog_event_becomes_one_change_with_whether_the_write_is_finished() -> None:
    from watchdog import events as ev

    from devenv.watch.observer import _Handler

    cases: list[tuple[ev.FileSystemEvent, list[tuple[str, str, bool]]]] = [
        (ev.FileCreatedEvent("/c/a.py"), [("/c/a.py", "created", False)]),
        (ev.FileModifiedEvent("/c/a.py"), [("/c/a.py", "modified", False)]),
        (ev.FileClosedEvent("/c/a.py"), [("/c/a.py", "modified", True)]),  # IN_CLOSE_WRITE
        (ev.FileDeletedEvent(b"/c/caf\xc3\xa9.py"), [("/c/café.py", "deleted", True)]),
        (ev.DirDeletedEvent("/c/d"), [("/c/d", "deleted", True)]),
        (ev.FileMovedEvent("/c/.a.py.tmp", "/c/a.py"), [("/c/.a.py.tmp", "moved", True), ("/c/a.py", "created", True)]),
        (ev.DirMovedEvent("/c/d", "/c/e"), [("/c/d", "moved", True)]),  # its files arrive as their own events
        (ev.DirModifiedEvent("/c/d"), []),
        (ev.FileOpenedEvent("/c/a.py"), []),
        (ev.FileClosedNoWriteEvent("/c/a.py"), []),
    ]
    for event, expected in cases:
        rec = Recorder()
        _Handler(rec).dispatch(event)  # type: ignore[arg-type]
        assert rec.added == expected, event


def test_counting_skips_excluded_and_noise_directories_but_not_a_nested_context(tmp_path: Path) -> None:
    files = ["Dockerfile", "src/a.py", "src/deep/.git/HEAD", "build/out.o", "build/more/x.o",
             "vendor/lib/Dockerfile", "vendor/lib/l.py", "vendor/other.py"]
    for rel in files:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(rel)
    (tmp_path / ".dockerignore").write_text("build\nvendor\n")
    w = Watcher([tmp_path, tmp_path / "vendor" / "lib"], lambda b: None, is_ignored=DockerIgnoreCache())
    assert (w.file_count(), w.dir_count()) == (0, 0)  # nothing counted before start
    w.add(str(tmp_path / "src" / "a.py"), "modified")  # nor delivered: not started
    w.start()
    try:
        # vendor/ is excluded but holds another image's context: walked; build/ is skipped whole
        assert w.file_count() == 6 and w.dir_count() == 5  # ., src, src/deep, vendor, vendor/lib
    finally:
        w.stop()


def test_changes_in_subdirectories_arrive_and_stop_ends_the_observer_thread(tmp_path: Path) -> None:
    import threading

    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    before = threading.active_count()
    got: Batches = queue.Queue()
    with _watch(tmp_path, got):
        (tmp_path / "sub" / "deeper" / "x.txt").write_text("x")
        assert got.get(timeout=5) == {tmp_path / "sub" / "deeper" / "x.txt": "created"}
    deadline = 50
    while threading.active_count() > before and deadline:
        import time

        time.sleep(0.1)
        deadline -= 1
    assert threading.active_count() <= before


def test_an_unwatched_path_says_why(sample: Path) -> None:
    from devenv.watch.ignore import never_ignored
    from devenv.watch.mapping import plan_changes

    proj, _ = load_project(sample)
    initech = [resolve(proj, "initech")]  # runs no api
    api_file = sample / "examples" / "shop" / "api" / "app.py"
    elsewhere = sample / "docs" / "notes.md"
    p = plan_changes(proj.app, initech, {api_file: "modified", elsewhere: "modified"}, is_ignored=never_ignored)
    assert dict(p.ignored) == {api_file: "image api is not built from source by any running tenant",
                               elsewhere: "outside every watched context"}
    assert p.empty


def test_editor_and_bytecode_noise_reasons() -> None:
    from devenv.watch.ignore import noise_reason

    assert noise_reason("web/#page.html#") == "editor temp file"  # emacs autosave
    assert noise_reason("web/.goutputstream-X1Y2") == "editor temp file"  # gedit
    assert noise_reason("web/.DS_Store") == "Finder metadata file"  # not an editor's: macOS Finder's
    assert noise_reason("web/m.pyo") == "Python bytecode cache"
    assert noise_reason("web/#notes.md") is None and noise_reason("web/issue#12.md") is None


def test_glob_rules_cover_what_they_match_and_below_and_the_most_specific_wins() -> None:
    from devenv.watch.mapping import matching_rule, rule_covers

    top = WatchRule("*.py", "sync", "/srv")
    assert matching_rule([top], "a.py") is top  # a glob with no fixed prefix still matches
    first, second = WatchRule("web/a*", "sync", "/one"), WatchRule("web/*b", "sync", "/two")
    assert matching_rule([first, second], "web/ab") is first  # equally specific: the first listed
    deep = WatchRule("web/static/vendor", "sync", "/v")
    assert matching_rule([WatchRule("web/static", "sync", "/s"), deep], "web/static/vendor/x.js") is deep
    assert rule_covers(WatchRule("w*b", "sync", "/s"), "web/x/y.py")  # everything below a matched directory
    assert not rule_covers(WatchRule("w*b", "sync", "/s"), "wet/x")


def test_a_coalescer_needs_a_positive_quiet_period_no_longer_than_max_wait() -> None:
    import threading

    from devenv.watch.coalesce import Coalescer

    c = Coalescer(1.0, 1.0, lambda b: None)  # equal is allowed
    try:
        assert "devenv-coalesce" in [t.name for t in threading.enumerate()]
    finally:
        c.close()
    for quiet, max_wait in ((0.0, 1.0), (2.0, 1.0)):
        with pytest.raises(ValueError, match=r"^need 0 < quiet <= max_wait$"):
            Coalescer(quiet, max_wait, lambda b: None)
