"""Watch behaviour the mutation review of devenv/watch/ found unpinned (bench/mutation-results.md):
sync+exec commands, superseded syncs, reasons shown, whole-context tails, deleted Dockerfile
directories, the .dockerignore cache, stop() without flush, the backlog hook and the coalescer's
daemon thread. Each test kills the mutants the review names (checked on a scratch copy)."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import time

from devenv.model.loader import load_project
from devenv.model.resolve import resolve
from devenv.model.types import WatchRule
from devenv.watch.ignore import DockerIgnoreCache, never_ignored
from devenv.watch.mapping import LiveTail, TailCopy, infer_dests, plan_changes

SHOP = "examples/shop"


def _proj(sample, rules=None, images=None, tenants=("acme",)):
    proj, _ = load_project(sample)
    app = proj.app
    if rules is not None:
        comps = dict(app.components)
        comps["web"] = dataclasses.replace(comps["web"], watch=tuple(rules))
        app = dataclasses.replace(app, components=comps)
    if images is not None:
        imgs = dict(app.images)
        imgs.update(images)
        app = dataclasses.replace(app, images=imgs)
    specs = [resolve(type(proj)(app, proj.profiles, proj.overlay), t) for t in tenants]
    return app, specs


def _plan(app, specs, *rels, kind="modified", **kw):
    kw.setdefault("is_ignored", never_ignored)
    return plan_changes(app, specs, {app.root / r: kind for r in rels}, **kw)


def test_a_sync_exec_rule_keeps_its_command_and_a_plain_sync_has_none(sample):
    app, specs = _proj(sample, [WatchRule(f"{SHOP}/web/templates", "sync+exec", "/t", exec=("x",)),
                                WatchRule(f"{SHOP}/web/static", "sync", "/s", exec=("y",))])
    p = _plan(app, specs, f"{SHOP}/web/templates/a.html", f"{SHOP}/web/static/a.css")
    got = {s.rule.path.rsplit("/", 1)[-1]: s.then_exec for s in p.syncs}
    assert got == {"templates": ("x",), "static": None}


def test_syncs_after_a_superseded_one_still_run(sample):
    app, specs = _proj(sample)
    p = _plan(app, specs, f"{SHOP}/web/templates/a.html", f"{SHOP}/web/Dockerfile", f"{SHOP}/worker/worker/x.py")
    assert [s.component for s in p.syncs] == ["worker"]


def test_every_superseded_sync_of_a_rebuilt_image_is_listed(sample):
    app, specs = _proj(sample)
    p = _plan(app, specs, f"{SHOP}/web/templates/a.html", f"{SHOP}/web/web/views.py", f"{SHOP}/web/Dockerfile")
    assert sorted(x.name for x, _ in p.superseded) == ["a.html", "views.py"]


def test_a_file_a_rule_ignores_says_which_rule(sample):
    app, specs = _proj(sample, [WatchRule(f"{SHOP}/web/static", "sync", "/s", ignore=("*.map",))])
    p = _plan(app, specs, f"{SHOP}/web/static/a.js.map")
    assert p.ignored == [(app.root / f"{SHOP}/web/static/a.js.map",
                          f"ignore pattern of web's watch rule {SHOP}/web/static")]


def test_a_plain_sync_starts_no_background_build(sample):
    app, specs = _proj(sample)
    p = _plan(app, specs, f"{SHOP}/web/templates/a.html")
    assert p.syncs and p.live_builds == {}


def test_a_rebuild_for_two_files_names_one_and_counts_the_rest(sample):
    app, specs = _proj(sample)
    p = _plan(app, specs, f"{SHOP}/web/a.py", f"{SHOP}/web/Dockerfile")
    assert p.rebuilds["web"].endswith("(+1 more)")


def test_a_change_under_a_rule_outside_the_context_says_why_it_is_not_watched(sample):
    app, specs = _proj(sample, [WatchRule("docs", "sync", "/d")])
    p = _plan(app, specs, "docs/x.md")
    assert "watch rule docs of web lies outside" in p.ignored[0][1]


def _tail(copies, head=()):
    return lambda img: LiveTail(tuple(copies), tuple(head)) if img.name == "web" else None


def test_a_tail_that_copies_the_whole_context_syncs_into_its_destination(sample):
    app, specs = _proj(sample)
    p = _plan(app, specs, f"{SHOP}/web/gunicorn.conf.py", tail_of=_tail([TailCopy(("",), "/app", True, "w")]))
    [s] = p.syncs
    assert s.rule.path == f"{SHOP}/web" and s.files[0][1] == "/app/gunicorn.conf.py"


def test_a_file_the_head_copies_is_not_live_synced():
    t = LiveTail((TailCopy(("static",), "/s", True, "w"),), ("",))
    assert infer_dests(t, "static/a.css", False) == []


def test_live_update_rebuild_gives_the_plain_reason(sample):
    app, specs = _proj(sample)
    web = dataclasses.replace(app.components["web"], live_update="rebuild")
    app = dataclasses.replace(app, components={**app.components, "web": web})
    p = _plan(app, specs, f"{SHOP}/web/gunicorn.conf.py",
              tail_of=_tail([TailCopy(("static",), "/s", True, "w")], head=("gunicorn.conf.py",)))
    assert p.rebuilds == {"web": f"no sync rule of web covers {SHOP}/web/gunicorn.conf.py"}


def test_deleting_the_dockerfiles_directory_inside_the_context_rebuilds(sample):
    proj, _ = load_project(sample)
    img = proj.app.images["web"]
    app, specs = _proj(sample, images={"web": dataclasses.replace(img, dockerfile=img.context / "docker" / "Dockerfile")})
    p = _plan(app, specs, f"{SHOP}/web/docker", kind="deleted")
    assert p.rebuilds == {"web": "Dockerfile changed"}


def test_deleting_the_dockerfiles_directory_outside_the_context_rebuilds(sample):
    proj, _ = load_project(sample)
    img = proj.app.images["web"]
    app, specs = _proj(sample, images={"web": dataclasses.replace(img, dockerfile=proj.app.root / "dockerfiles" / "Dockerfile")})
    p = _plan(app, specs, "dockerfiles", kind="deleted")
    assert p.rebuilds == {"web": "Dockerfile changed"}


def test_a_deleted_context_rebuilds_even_when_every_path_is_ignored(sample):
    app, specs = _proj(sample)
    p = _plan(app, specs, f"{SHOP}/web", kind="deleted", is_ignored=lambda c, r: True)
    assert "web" in p.rebuilds


def test_an_unchanged_dockerignore_keeps_answering_after_its_recheck_period(tmp_path):
    (tmp_path / ".dockerignore").write_text("*.log\n")
    c = DockerIgnoreCache(recheck=0)
    assert c(tmp_path, "a.log") and c(tmp_path, "b.log")


def test_an_editor_swap_file_is_no_change_since_the_last_build(tmp_path):
    from devenv.model.types import App, ImageDef
    from devenv.watch.initial import changed_since
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    (ctx / "Dockerfile").write_text("x")
    os.utime(ctx / "Dockerfile", (1, 1))
    (ctx / ".a.py.swp").write_text("x")
    app = App("shop", tmp_path, tmp_path / "devenv.yaml", {"web": ImageDef("web", ctx, ctx / "Dockerfile")}, {})
    assert changed_since(app, "web", 100.0) == []


def test_stop_without_flush_drops_the_open_batch(tmp_path):
    from devenv.watch.observer import Watcher
    got = []
    w = Watcher([tmp_path], got.append, quiet=5.0, max_wait=10.0)
    w.start()
    w.add(str(tmp_path / "a.py"), "modified")
    w.stop()
    time.sleep(0.1)
    assert got == []


def test_the_watcher_tells_its_coalescer_about_the_observers_backlog(tmp_path):
    from devenv.watch.observer import Watcher
    w = Watcher([tmp_path], lambda b: None)
    w.start()
    try:
        assert w._coalescer._busy() is False
        w._observer.event_queue.put(None)
        assert w._coalescer._busy() is True
        w._observer.event_queue.get()
    finally:
        w.stop()


def test_an_unclosed_coalescer_does_not_keep_the_process_alive():
    # the child imports devenv from this process's path (under bench/mutation.py: the mutated copy)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    r = subprocess.run([sys.executable, "-c", "from devenv.watch.coalesce import Coalescer; Coalescer()"],
                       timeout=8, capture_output=True, env=env)
    assert r.returncode == 0


def test_a_deleted_context_rebuilds_when_its_dockerfile_lies_outside_it(sample):
    proj, _ = load_project(sample)
    img = proj.app.images["web"]
    app, specs = _proj(sample, images={"web": dataclasses.replace(img, dockerfile=proj.app.root / "dockerfiles" / "Dockerfile")})
    p = _plan(app, specs, f"{SHOP}/web", kind="deleted", is_ignored=lambda c, r: True)
    assert "web" in p.rebuilds


def test_a_live_update_names_its_background_build_in_words(sample):
    app, specs = _proj(sample, [WatchRule(f"{SHOP}/web/templates", "sync", "/t")])
    p = _plan(app, specs, f"{SHOP}/web/static/a.css", tail_of=_tail([TailCopy(("static",), "/s", True, "w")]))
    assert p.live_builds == {"web": "live update of web (w); the image follows so the next up is exact"}


def test_a_write_still_open_waits_the_quiet_period_and_a_closed_one_leaves_at_once(tmp_path):
    """watchdog's created/modified events do not end a write (the writer may still be writing):
    such a path waits the quiet period, where a close-write event lets a one-file batch leave at
    once. ``Watcher.add``'s default is the unfinished kind, which the handler relies on."""
    from devenv.watch.observer import Watcher
    got = []
    w = Watcher([tmp_path], got.append, quiet=5.0, max_wait=10.0)
    w.start()
    try:
        w.add(str(tmp_path / "a.py"), "modified")
        time.sleep(0.3)
        assert got == []
        w.add(str(tmp_path / "a.py"), "modified", finished=True)
        deadline = time.monotonic() + 3.0
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
        assert [dict(b) for b in got] == [{tmp_path / "a.py": "modified"}]
    finally:
        w.stop()
