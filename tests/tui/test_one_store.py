"""One store (issue 16): the TUI's model, ``devenv status``'s records and the event log's replay are
the same facts. One event sequence (what the engine announces from the backend's rows when a session
starts, a build, a sync, saves held for a tenant still starting, then a crash the monitor reports)
is replayed to the real app over Pilot at 80x24, to the real ``status`` command (its backend lists
the rows as they are after the crash), and through the real event log; all three must agree, in
data and on the screen."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from devenv.backends.base import ComponentStatus
from devenv.engine import eventlog
from devenv.engine.state import State, fold, observed
from devenv.events import (
    BuildFinished,
    BuildStarted,
    ComponentState,
    Event,
    ImagesKnown,
    PendingChanges,
    TenantState,
    Timeline,
)
from tests.tui.conftest import make_app, settle
from tests.tui.fakes import at, image, url
from tests.tui.test_trust import screen_text

SMALL = (80, 24)
WORKER_EXIT = "exited with code 3"


def rows(worker: str = "healthy") -> list[ComponentStatus]:
    """What the compose backend lists for acme; ``worker`` is the worker's state now."""
    return [ComponentStatus("acme", c, worker if c == "worker" else "healthy",
                            "none" if c == "worker" and worker != "healthy" else "healthy", image(c), url("acme", c),
                            containers=1) for c in ("api", "postgres", "web", "worker")]


def day() -> list[Event]:
    web = "examples/shop/web/templates/index.html"
    evs: list[Event] = [*observed(rows()), TenantState(tenant="acme", state="up", ts=at(1)),
                        TenantState(tenant="globex", state="building", ts=at(1))]
    return evs + [
        BuildStarted(image="devenv/shop-web", tag="b0b0", reason="Dockerfile changed", ts=at(2)),
        BuildFinished(image="devenv/shop-web", tag="b0b0", status="built", seconds=1.5, ts=at(4)),
        ImagesKnown(images=(("web", image("web")),), ts=at(4)),
        Timeline(kind="sync", message="synced 1 file(s) [index.html] by rule templates -> /srv/web/templates",
                 component="web", tenants=("acme",), cost_ms=38, files=(web,), detail=(f"{web} -> /srv",), ts=at(5)),
        PendingChanges(tenant="globex", changes=((web, "modified"),), ts=at(5)),
        ComponentState(tenant="acme", component="worker", state="crashed", detail=WORKER_EXIT, ts=at(6)),
    ]


def status_json(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                listed: list[ComponentStatus]) -> list[dict[str, Any]]:
    """``devenv status --json`` as the user runs it, its backend listing ``listed``."""
    from devenv.commands import status

    class Listing:
        def status(self, tenants: list[str] | None = None) -> list[ComponentStatus]:
            return listed

    monkeypatch.setattr("devenv.backends.get_backend", lambda *a, **k: Listing())
    capsys.readouterr()
    assert status.run(argparse.Namespace(tenant=None, json=True, backend="compose")) == 0
    return list(json.loads(capsys.readouterr().out))


def as_status_shows(state: State, record: dict[str, Any]) -> dict[str, str]:
    """The store's component, in the words of ``status``'s record (no health check reads "none")."""
    c = state.components[(record["tenant"], record["component"])]
    return {"tenant": c.tenant, "component": c.component, "state": c.state, "health": c.health or "none",
            "url": c.url, "image": c.image}


def replayed_log(root: Path, events: list[Event]) -> list[Timeline]:
    """Every event through the engine's event log, then read back as the next session does."""
    log = eventlog.EventLog(root)
    for ev in events:
        log(ev)
    return list(eventlog.history(root))


def shown(entries: list[Timeline] | tuple[Timeline, ...]) -> list[tuple[str, str, tuple[str, ...]]]:
    return [(e.kind, e.text(), e.files) for e in entries]


async def test_tui_status_and_the_log_read_the_same_facts(
        sample: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    events = day()
    app, engine = make_app(events)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        assert app.state is engine.state  # the store, not a copy
        assert app.state == fold(events, State(app="shop", backend="compose"))  # the same reducer, same events
        screen = [" ".join(line.split()) for line in screen_text(app).splitlines()]
    records = status_json(monkeypatch, capsys, rows(worker="crashed"))
    assert [as_status_shows(app.state, r) for r in records] == [
        {k: r[k] for k in ("tenant", "component", "state", "health", "url", "image")} for r in records]
    assert {(r["tenant"], r["component"]) for r in records} == set(app.state.components)
    assert {k for r in records for k in r} == {f.name for f in dataclasses.fields(ComponentStatus)}  # its shape
    assert [(r["component"], r["state"], r["health"]) for r in records] == [
        ("api", "healthy", "healthy"), ("postgres", "healthy", "healthy"), ("web", "healthy", "healthy"),
        ("worker", "crashed", "none")]
    assert app.state.pending_files("globex") == ("examples/shop/web/templates/index.html",)
    assert app.state.images["web"] == image("web")
    replay = replayed_log(sample, events)
    assert shown(replay) == shown(app.state.timeline)  # the next session's history: the same lines
    assert [e.kind for e in replay] == ["sync", "fail"]
    ready = sum(r["state"] in ("healthy", "running") for r in records)
    assert any(f"acme ! degraded {ready}/{len(records)}" in row for row in screen), screen  # the tree
    assert any("worker" in row and "✗ crashed" in row for row in screen), screen
    assert any(f"✗ fail worker (acme) crashed: {WORKER_EXIT}" in row for row in screen), screen  # the timeline
    assert any("⇄ sync web (acme) synced 1 file(s)" in row for row in screen), screen
