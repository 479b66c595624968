"""What the screen looks like, pinned with pytest-textual-snapshot.

Deterministic: fixed event timestamps, a frozen header clock, UTC. Update on purpose with
``pytest tests/tui/test_snapshots.py --snapshot-update`` and review the SVGs.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot

from tests.tui.conftest import make_app, settle
from tests.tui.fakes import failed_build_events, healthy_events, starting_events

SIZE = (140, 36)


async def _settle(pilot: Pilot[Any]) -> None:
    await settle(pilot)


async def _open_first_timeline_entry(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    pilot.app.query_one("#timeline").focus()
    await pilot.press("enter")
    await settle(pilot)


def test_starting(snap_compare: Any) -> None:
    app, _ = make_app(starting_events())
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


def test_healthy(snap_compare: Any) -> None:
    app, _ = make_app(healthy_events())
    assert snap_compare(app, terminal_size=SIZE, run_before=_settle)


def test_failed_build_log_tail(snap_compare: Any) -> None:
    app, _ = make_app(failed_build_events())
    assert snap_compare(app, terminal_size=SIZE, run_before=_open_first_timeline_entry)


def test_help_screen(snap_compare: Any) -> None:
    app, _ = make_app(healthy_events())
    assert snap_compare(app, press=["question_mark"], terminal_size=SIZE, run_before=_settle)
