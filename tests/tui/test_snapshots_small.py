"""The screen at a laptop's size (100x30) and a small terminal (80x24), pinned with
pytest-textual-snapshot: every tenant in the tree (one never started, dim), the tree as wide as its
content, JSON log lines as level, message and key=value, and the newest timeline entry in view.
Update on purpose with ``--snapshot-update`` and review the SVGs."""

from __future__ import annotations

from typing import Any

import pytest
from textual.pilot import Pilot

from devenv.events import Event, LogLine, TenantState
from tests.tui.conftest import make_app, settle
from tests.tui.fakes import at, healthy_events
from tests.tui.test_trust import json_line, saves


def laptop_day() -> list[Event]:
    evs = healthy_events() + [TenantState(tenant="initech", state="stopped", detail="never started", ts=at(0))]
    evs += [LogLine(tenant="acme", component="worker", ts=at(40 + i),
                    line=json_line("job_done", job=800 + i, ms=120 + i, queue="exports")) for i in range(3)]
    evs.append(LogLine(tenant="acme", component="worker", line="plain text line from the worker", ts=at(45)))
    return evs + saves(8)


async def _scoped_to_worker(pilot: Pilot[Any]) -> None:
    await settle(pilot)
    pilot.app.tenant_tree.move_to("acme", "worker")  # type: ignore[attr-defined]
    await settle(pilot)
    await pilot.pause()


@pytest.mark.parametrize("size", [(100, 30), (80, 24)])
def test_laptop_screen(snap_compare: Any, size: tuple[int, int]) -> None:
    app, _ = make_app(laptop_day())
    assert snap_compare(app, terminal_size=size, run_before=_scoped_to_worker)
