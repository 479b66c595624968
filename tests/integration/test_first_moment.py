"""Watch from the first moment (issue 17): a save made while ``up`` builds, while the containers
start and while the health check waits is live once the tenant is up. Developers start typing as
soon as the page loads, before devenv has finished.

One tiny project (a Debian image whose build sleeps, a web whose health check passes only after a
few seconds), its own app name, prefix and port range; the engine runs in-process as the TUI runs
it, and a subscriber saves a file at the moment each phase is announced.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from devenv.backends.compose import ComposeBackend
from devenv.engine.core import Engine
from devenv.events import BuildStarted, ComponentState, Event, TenantState, Timeline
from devenv.model import load_project
from tests.integration.helpers import wait_for
from tests.integration.test_faults import BASE, LOOP, Tiny

pytestmark = pytest.mark.docker

PHASES = ("build", "start", "health", "answered")


def phase_of(ev: Event) -> str | None:
    """The phase an event announces: the build began, the containers are being created, or the
    web container runs and its health check has not passed yet."""
    if isinstance(ev, BuildStarted):
        return "build"
    if isinstance(ev, TenantState) and ev.state == "starting":
        return "start"
    if isinstance(ev, ComponentState) and ev.component == "web" and ev.health == "starting":
        return "health"
    if isinstance(ev, ComponentState) and ev.component == "web" and ev.state == "healthy":
        return "answered"  # web answers; store still waits for its health check
    return None


def make_project(make_tiny: Callable[..., Tiny]) -> Tiny:
    tiny = make_tiny(
        dockerfile=f"FROM {BASE}\nRUN sleep 3\nCOPY site /site\nCMD {json.dumps(['sh', '-c', LOOP])}\n",
        web_cmd=f"sleep 4; touch /tmp/ready; {LOOP}",
        web_health="{cmd: [test, -f, /tmp/ready], interval: 1, retries: 60}")
    site = tiny.root / "app" / "site"
    site.mkdir()
    for phase in PHASES:
        (site / f"{phase}.txt").write_text("before\n")
    yaml = tiny.root / "devenv.yaml"  # both components run the image: both sync the site
    rule = "    watch:\n      - {path: app/site, action: sync, target: /site}\n"
    text = yaml.read_text().replace("    ports:\n      - {name: http, container: 8000}\n",
                                    "    ports:\n      - {name: http, container: 8000}\n" + rule, 1)
    slow = (f"    command: {json.dumps(f'sleep 9; touch /tmp/ready; {LOOP}')}\n"
            "    health: {cmd: [test, -f, /tmp/ready], interval: 1, retries: 60}\n")
    yaml.write_text(text.replace("  store:\n    image: app\n", "  store:\n    image: app\n" + rule + slow, 1))
    return tiny


class SavesAtEachPhase:
    """An engine subscriber that saves ``<phase>.txt`` the first time each phase is announced
    (synchronously, on the engine's loop: the save lands exactly in that phase)."""

    def __init__(self, site: Path) -> None:
        self.site = site
        self.saved: list[str] = []

    def __call__(self, ev: Event) -> None:
        phase = phase_of(ev)
        if phase and phase not in self.saved:
            self.saved.append(phase)
            (self.site / f"{phase}.txt").write_text(f"saved during {phase}\n")


def test_saves_during_build_start_and_health_wait_are_live_once_up(make_tiny, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    tiny = make_project(make_tiny)
    monkeypatch.setenv("DEVENV_PROJECT_PREFIX", tiny.app)
    project, _ = load_project(tiny.root)
    engine = Engine(project, ["acme"], ComposeBackend(project), watch=True)
    saver = SavesAtEachPhase(tiny.root / "app" / "site")
    engine.subscribe(saver)
    events: list[Event] = []
    engine.subscribe(events.append)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()

    def call(coro: Any, timeout: float = 600) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout)

    try:
        call(engine.start())
        assert saver.saved == list(PHASES), saver.saved  # each save landed in its phase

        def served(phase: str) -> bool:
            out = tiny.container("web").exec_run(["cat", f"/site/{phase}.txt"]).output.decode()
            return out == f"saved during {phase}\n"

        for phase in PHASES:
            wait_for(lambda phase=phase: served(phase), timeout=30, what=f"the save made during {phase} served")
        assert engine.state.tenants["acme"].state == "up"
        answered = next(i for i, e in enumerate(events)
                        if isinstance(e, Timeline) and "app/site/answered.txt" in e.files)
        up = next(i for i, e in enumerate(events) if isinstance(e, TenantState) and e.state == "up")
        assert answered < up, events[answered:up + 1]  # live once web answered, not once all were
    finally:
        call(engine.stop(leave_running=True), timeout=60)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
