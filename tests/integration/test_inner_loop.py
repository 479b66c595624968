"""The inner loop against the real engine: a save syncs into every tenant running the component, a
base change rebuilds and redeploys exactly its dependents, a failing build leaves the watcher
running, and an edit made while devenv was stopped is live after the next `up`.

The engine runs in-process on its own asyncio loop thread (as the TUI runs it); tests wait for
timeline events and served content, never for fixed times.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from pathlib import Path

import pytest

from devenv.backends.compose import ComposeBackend
from devenv.engine.core import Engine
from devenv.events import Event, Timeline
from devenv.model import load_project
from tests.conftest import copy_sample
from tests.integration.helpers import devenv, http, isolate, project_containers, teardown, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.slow]
APP = "shopwatch"
TENANTS = ["acme", "globex"]


class Running:
    """An engine on a background loop, with every event it emitted."""

    def __init__(self, root: Path) -> None:
        project, _ = load_project(root)
        self.engine = Engine(project, TENANTS, ComposeBackend(project), watch=True)
        self.events: list[Event] = []
        self.engine.subscribe(self.events.append)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro, timeout: float = 900):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def timeline(self, kind: str) -> list[Timeline]:
        return [e for e in list(self.events) if isinstance(e, Timeline) and e.kind == kind]

    def close(self) -> None:
        self.call(self.engine.stop(leave_running=True))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory, docker_engine: None):  # type: ignore[no-untyped-def]
    root = copy_sample(tmp_path_factory.mktemp("loop") / "shop")
    isolate(root, APP, 29000)
    teardown(root, TENANTS)
    old = os.environ.get("DEVENV_PROJECT_PREFIX")
    os.environ["DEVENV_PROJECT_PREFIX"] = APP  # the in-process engine resolves project names from it
    r = Running(root)
    try:
        r.call(r.engine.start())
        yield root, r
    finally:
        r.close()
        teardown(root, TENANTS)
        if old is None:
            os.environ.pop("DEVENV_PROJECT_PREFIX", None)
        else:
            os.environ["DEVENV_PROJECT_PREFIX"] = old


def web_urls(r: Running) -> list[str]:
    return [r.engine.url(t, "web") or "" for t in TENANTS]


def test_a_template_save_is_synced_into_every_tenant(running) -> None:  # type: ignore[no-untyped-def]
    root, r = running
    tpl = root / "examples/shop/web/templates/index.html"
    ids = {c.id for c in project_containers(APP)}
    tpl.write_text(tpl.read_text().replace("<body", "<!-- synced-marker-1 --><body", 1))
    for url in web_urls(r):
        wait_for(lambda url=url: "synced-marker-1" in http(url)[1], timeout=30, what=f"the edit served at {url}")
    sync = wait_for(lambda: r.timeline("sync"), what="a sync timeline event")
    assert "web" in sync[-1].text() and "acme" in sync[-1].text() and "globex" in sync[-1].text()
    assert "templates" in sync[-1].message and " ms" in sync[-1].text()  # names the rule it matched, and its cost
    assert {c.id for c in project_containers(APP)} == ids  # nothing was recreated
    assert not r.timeline("rebuild")


def test_a_base_change_rebuilds_and_redeploys_exactly_the_dependents(running) -> None:  # type: ignore[no-untyped-def]
    root, r = running
    def ids_by_comp() -> dict[tuple[str, str], str]:
        return {(c.labels["dev.devenv.tenant"], c.labels["dev.devenv.component"]): c.id
                for c in project_containers(APP)}
    before = ids_by_comp()
    n_redeploys = len(r.timeline("redeploy"))
    lib = root / "examples/shop/base/shoplib/__init__.py"
    lib.write_text(lib.read_text() + "\n# base change\n")
    wait_for(lambda: len(r.timeline("redeploy")) >= n_redeploys + len(TENANTS), timeout=600,
             what="redeploys in both tenants")
    rebuild = r.timeline("rebuild")[-1].message
    assert "base" in rebuild
    after = wait_for(lambda: a if len(a := ids_by_comp()) == len(before) else None, what="containers back")
    for key, old in before.items():
        recreated = after[key] != old
        assert recreated == (key[1] in ("web", "api", "worker", "scheduler")), key
    for url in web_urls(r):
        wait_for(lambda url=url: http(url)[0] == 200, timeout=120, what="web healthy after the redeploy")


def test_a_failing_build_leaves_the_watcher_running(running) -> None:  # type: ignore[no-untyped-def]
    root, r = running
    req = root / "examples/shop/web/requirements.txt"
    good = req.read_text()
    n_fail = len(r.timeline("fail"))
    req.write_text(good + "this-package-does-not-exist-devenv==0.0.0\n")
    fail = wait_for(lambda: r.timeline("fail")[n_fail:], timeout=300, what="the failed build on the timeline")
    assert "web" in fail[0].message and fail[0].detail  # with its log tail
    n_redeploys = len(r.timeline("redeploy"))
    req.write_text(good)  # the next save retries
    wait_for(lambda: len(r.timeline("redeploy")) > n_redeploys or
             any("web" in e.message for e in r.timeline("rebuild")[-1:]), timeout=300, what="the retry")
    tpl = root / "examples/shop/web/templates/index.html"
    tpl.write_text(tpl.read_text().replace("<body", "<!-- after-failure --><body", 1))
    for url in web_urls(r):
        wait_for(lambda url=url: "after-failure" in http(url)[1], timeout=120, what="sync after a failed build")


def test_an_edit_made_while_stopped_is_live_after_the_next_up(running) -> None:  # type: ignore[no-untyped-def]
    root, r = running
    r.call(r.engine.stop(leave_running=True))
    tpl = root / "examples/shop/web/templates/index.html"
    tpl.write_text(tpl.read_text().replace("<body", "<!-- edited-while-stopped --><body", 1))
    devenv(root, "up", "--tenant", "acme,globex", "--detach")
    for url in web_urls(r):
        wait_for(lambda url=url: "edited-while-stopped" in http(url)[1], timeout=60, what="the edit after up")


def test_touched_but_unchanged_files_are_not_resynced_by_watch(running) -> None:  # type: ignore[no-untyped-def]
    """A `git checkout` of the same content (new mtimes, same bytes), then `devenv watch`: the
    running images' content tags still match, so the initial sync has nothing to do."""
    root, r = running
    later = time.time() + 60
    for p in (root / "examples").rglob("*"):
        os.utime(p, (later, later))
    again = Running(root)
    try:
        again.call(again.engine.start(up=False))
        wait_for(lambda: again.engine.state.watching, what="watching")
        assert not again.timeline("sync") and not again.timeline("rebuild"), again.events
    finally:
        again.close()
