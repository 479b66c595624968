"""Fixtures for driving the real app with a FakeEngine under Pilot."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from textual.pilot import Pilot

from devenv.events import Event
from tests.tui.fakes import T0, TZ, FakeEngine
from tui.app import DevenvApp

SIZE = (150, 44)


def make_app(script: Iterable[Event] = (), **kw: Any) -> tuple[DevenvApp, FakeEngine]:
    """The real app over a FakeEngine, with a frozen clock and UTC timestamps."""
    engine = FakeEngine(script)
    opened: list[str] = []
    kw.setdefault("open_url", opened.append)
    app = DevenvApp(engine, clock=lambda: T0 + 71, tz=TZ, **kw)
    app.opened = opened  # type: ignore[attr-defined]
    return app, engine


async def settle(pilot: Pilot[Any]) -> None:
    """Wait for the work, not for time: queued messages, then a forced log flush."""
    await pilot.pause()
    app = pilot.app
    assert isinstance(app, DevenvApp)
    app.flush_logs()
    await pilot.pause()
