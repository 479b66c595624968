"""What the screen shows at a laptop's size (issue 17): the timeline keeps the newest entry in view
unless the user moved away (then it counts what waits above), every tenant of the project is in
the tree and can be started, and JSON log lines read as level, message and key=value.

Assertions read the rendered screen (the characters a terminal would show), not widget state only.
"""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from rich.console import Console

from devenv.events import ComponentState, Event, LogLine, TenantState, Timeline
from tests.tui.conftest import make_app, settle
from tests.tui.fakes import T0, at, healthy_events
from tui.app import DevenvApp
from tui.screens.confirm import ConfirmScreen

SMALL = [(100, 30), (80, 24)]


def screen_text(app: DevenvApp) -> str:
    """The screen as plain text, exactly as drawn."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False, safe_box=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


def saves(n: int, start: float = 100.0) -> list[Timeline]:
    return [Timeline(kind="sync", component="web", tenants=("acme",), cost_ms=30 + i, ts=at(start + i),
                     message=f"synced 1 file(s) [page{i:02}.html] by rule templates -> /srv/web/templates")
            for i in range(n)]


@pytest.mark.parametrize("size", SMALL)
async def test_the_newest_entry_stays_in_view_after_a_burst(size: tuple[int, int]) -> None:
    app, engine = make_app(healthy_events())
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        engine.emit(Timeline(kind="fail", message="build of web failed: Dockerfile:9", component="web",
                             tenants=("acme",), detail=("E: broken",), ts=at(90)))
        await settle(pilot)
        for ev in saves(12):  # a burst of saves, each its own refresh
            engine.emit(ev)
            await pilot.pause()
        await settle(pilot)
        shown = screen_text(app)
        assert "page11.html" in shown, shown
        assert app.timeline.highlighted == 0 and app.timeline.waiting == 0


async def test_moving_away_keeps_the_entry_read_and_counts_the_new_ones() -> None:
    app, engine = make_app(healthy_events())
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        for ev in saves(4):
            engine.emit(ev)
        await settle(pilot)
        app.timeline.focus()
        await pilot.press("down", "down")
        read = app.timeline.entries[app.timeline.highlighted or 0]
        assert "page01.html" in read.message
        for ev in saves(3, start=200.0):
            engine.emit(ev)
            await pilot.pause()
        await settle(pilot)
        assert app.timeline.entries[app.timeline.highlighted or 0] == read  # still on what the user reads
        shown = screen_text(app)
        assert "3 new above" in shown and "page01.html" in shown, shown
        await pilot.press("home")
        await settle(pilot)
        assert "new above" not in screen_text(app)
        engine.emit(*saves(1, start=300.0))
        await settle(pilot)
        assert app.timeline.highlighted == 0 and "new above" not in screen_text(app)


def project_tenants() -> list[Event]:
    """A session of acme only; globex was stopped with its data kept, initech never started."""
    evs = [e for e in healthy_events() if getattr(e, "tenant", "acme") == "acme"]
    evs += [TenantState(tenant="globex", state="stopped", detail="data kept", ts=at(0)),
            ComponentState(tenant="globex", component="web", state="stopped", ts=at(0)),
            TenantState(tenant="initech", state="stopped", detail="never started", ts=at(0))]
    return evs


async def test_every_tenant_is_in_the_tree_and_any_can_be_started_or_stopped() -> None:
    app, engine = make_app(project_tenants())
    engine.tenants = ["acme"]
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        shown = screen_text(app)
        assert "acme" in shown and "globex" in shown and "initech" in shown, shown
        assert "never started" in shown and "stopped" in shown
        app.tenant_tree.move_to("initech")
        await pilot.press("u")
        await settle(pilot)
        assert ("up", ["initech"]) in engine.calls
        app.tenant_tree.move_to("globex")
        await pilot.press("space")
        app.tenant_tree.move_to("initech")
        await pilot.press("space", "u")
        await settle(pilot)
        assert ("up", ["globex", "initech"]) in engine.calls
        await pilot.press("escape")
        app.tenant_tree.move_to("initech")
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert ("down", "initech", False) in engine.calls


def json_line(event: str, **fields: Any) -> str:
    record = {"ts": "2026-12-01T22:36:34.512+00:00", "level": "info", "tenant": "acme",
              "component": "worker", "event": event, **fields}
    return json.dumps(record, separators=(",", ":"))


@pytest.mark.parametrize("size", SMALL)
async def test_a_json_log_line_reads_as_level_message_and_fields(size: tuple[int, int]) -> None:
    line = json_line("job_done", job=812, ms=140, queue="exports")
    app, engine = make_app(healthy_events() + [LogLine(tenant="acme", component="worker", line=line, ts=T0 + 60)])
    async with app.run_test(size=size) as pilot:
        await settle(pilot)
        app.tenant_tree.move_to("acme", "worker")
        await settle(pilot)
        shown = screen_text(app)
        assert "22:36:34 worker" in shown and "INFO  job_done" in shown, shown
        if size[0] >= 100:
            assert "INFO  job_done job=812 ms=140" in shown, shown
        assert "22:14:20" not in shown.split("job_done")[0].rsplit("\n", 1)[-1]  # one timestamp: the app's
        assert '{"ts"' not in shown
        await pilot.press("j")  # the raw line, one key away
        await settle(pilot)
        assert 'worker   {"ts":"20' in screen_text(app)


async def test_the_tree_is_as_wide_as_its_content() -> None:
    app, _ = make_app(healthy_events())
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.pause()
        width = app.tenant_tree.size.width
        assert width < 50, width
        assert width >= app.tenant_tree.virtual_size.width  # nothing cut
        assert app.logs.outer_size.width == 100 - app.tenant_tree.outer_size.width  # the rest is the logs'


async def test_starting_a_tenant_is_long_by_design_not_engine_slow() -> None:
    app, engine = make_app(project_tenants(), slow_after=0.0)
    engine.hang.add("up")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.tenant_tree.move_to("initech")
        await pilot.press("u")
        await settle(pilot)
        app.refresh_header()
        assert ("up", ["initech"]) in engine.calls
        assert "engine slow" not in screen_text(app)
        engine.release()
