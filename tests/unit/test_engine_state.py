"""The engine's pure parts: the reducer, timeline sentences, the plain printer, tenant picking and
the project lock."""

from __future__ import annotations

import io
import multiprocessing
import time
from pathlib import Path

import pytest

from devenv.commands._common import pick_tenants, split_names
from devenv.commands._printer import Printer
from devenv.engine.state import TIMELINE_MAX, State, fold, reduce
from devenv.errors import DevenvError
from devenv.events import (
    BuildFinished,
    BuildProgress,
    BuildStarted,
    ComponentState,
    EngineHealth,
    LogLine,
    TenantState,
    Timeline,
    WatchStatus,
)
from devenv.lock import project_lock
from devenv.model import load_project


def test_components_are_added_to_their_tenant_in_arrival_order() -> None:
    s = fold([ComponentState(tenant="acme", component="web", state="starting"),
              ComponentState(tenant="acme", component="api", state="starting"),
              ComponentState(tenant="acme", component="web", state="healthy", url="http://127.0.0.1:1/")])
    assert s.tenants["acme"].components == ("web", "api")
    assert s.components[("acme", "web")].state == "healthy"
    assert s.components[("acme", "web")].url == "http://127.0.0.1:1/"
    assert s.ready_count("acme") == (1, 2)


def test_a_state_change_keeps_what_the_event_does_not_say() -> None:
    s = fold([ComponentState(tenant="t", component="c", state="healthy", image="img:1", url="u"),
              ComponentState(tenant="t", component="c", state="crashed")])
    v = s.components[("t", "c")]
    assert (v.state, v.image, v.url) == ("crashed", "img:1", "u")


def test_builds_progress_count_cache_hits_and_keep_the_log_tail_of_a_failure() -> None:
    s = fold([BuildStarted(image="web", tag="t1", reason="no image"),
              BuildProgress(image="web", step=1, total=3, cached=True),
              BuildProgress(image="web", step=2, total=3, cached=False),
              BuildFinished(image="web", tag="", status="failed", seconds=1.5, log_tail=("boom",))])
    b = s.builds["web"]
    assert (b.status, b.step, b.total, b.cached_steps, b.tag, b.log_tail) == ("failed", 2, 3, 1, "t1", ("boom",))


def test_timeline_is_bounded_and_other_events_update_the_header() -> None:
    s = State()
    for i in range(TIMELINE_MAX + 10):
        s = reduce(s, Timeline(kind="info", message=str(i)))
    assert len(s.timeline) == TIMELINE_MAX and s.timeline[-1].message == str(TIMELINE_MAX + 9)
    s = fold([EngineHealth(ok=False, detail="gone"), WatchStatus(watching=True, files=42),
              TenantState(tenant="acme", state="up")], s)
    assert (s.engine_ok, s.engine_detail, s.watching, s.watched_files) == (False, "gone", True, 42)
    assert s.tenants["acme"].state == "up"
    assert reduce(s, LogLine(tenant="acme", component="web", line="x")) is s  # logs never enter the state


def test_timeline_text_puts_who_first_and_the_cost_last() -> None:
    ev = Timeline(kind="sync", message="synced 1 file(s) [a.html] by rule t -> /t", component="web",
                  tenants=("acme", "globex"), cost_ms=41.2)
    assert ev.text() == "web (acme, globex): synced 1 file(s) [a.html] by rule t -> /t in 41 ms"
    assert Timeline(kind="up", message="up", tenants=("a",), cost_ms=12_345).text() == "(a): up in 12.3 s"
    assert Timeline(kind="info", message="plain").text() == "plain"


def test_printer_writes_plain_lines_with_failure_tails_and_no_colour_off_a_terminal() -> None:
    out = io.StringIO()
    p = Printer(out=out)
    p(LogLine(tenant="acme", component="web", line="GET / 200"))
    p(Timeline(kind="fail", message="build of web failed", detail=("step 3", "error: nope")))
    p(BuildFinished(image="web", tag="devenv/x-web:1", status="cached", seconds=0.01))
    text = out.getvalue()
    assert "acme/web | GET / 200" in text
    assert "build of web failed\n    step 3\n    error: nope" in text
    assert "web: cached devenv/x-web:1" in text
    assert "\x1b[" not in text


def test_tenant_picking(sample: Path) -> None:
    project, _ = load_project(sample)
    assert split_names(["acme,globex", " initech "]) == ["acme", "globex", "initech"]
    assert pick_tenants(project, None) == ["acme", "globex"]  # devenv.yaml's default_tenants
    assert pick_tenants(project, None, default_all=True) == ["acme", "globex", "initech"]
    assert pick_tenants(project, ["initech,acme,initech"]) == ["initech", "acme"]
    with pytest.raises(DevenvError) as e:
        pick_tenants(project, ["acne"])
    assert "did you mean 'acme'" in e.value.hint


def _hold(root: str, seconds: float) -> None:
    with project_lock(Path(root), "holder"):
        time.sleep(seconds)


def test_the_project_lock_makes_a_second_holder_wait_then_refuse(tmp_path: Path) -> None:
    proc = multiprocessing.get_context("fork").Process(target=_hold, args=(str(tmp_path), 3.0))
    proc.start()
    try:
        lockfile = tmp_path / ".devenv" / "lock"
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and "holder" not in (lockfile.read_text() if lockfile.exists() else ""):
            time.sleep(0.05)
        with pytest.raises(DevenvError) as e, project_lock(tmp_path, "second", wait=0.5):
            pass
        assert "holder" in e.value.message
        with project_lock(tmp_path, "third", wait=10):  # waits for the holder, then gets it
            assert "third" in lockfile.read_text()
    finally:
        proc.join(10)
    assert (tmp_path / ".devenv").stat().st_mode & 0o077 == 0


def test_a_crash_clears_the_health_and_is_on_the_timeline_as_the_log_keeps_it() -> None:
    from devenv.engine.eventlog import record

    crash = ComponentState(tenant="acme", component="worker", state="crashed", detail="exited with code 3", ts=5.0)
    s = fold([ComponentState(tenant="acme", component="worker", state="healthy", health="healthy", ts=1.0), crash])
    assert (s.components[("acme", "worker")].state, s.components[("acme", "worker")].health) == ("crashed", "")
    [entry] = s.timeline
    assert (entry.kind, entry.component, entry.tenants) == ("fail", "worker", ("acme",))
    logged = record(crash)
    assert logged is not None and logged["message"] == entry.message == "crashed: exited with code 3"
    assert fold([ComponentState(tenant="acme", component="worker", state="running", ts=1.0)]).timeline == ()
