"""The TUI's data keys over a FakeEngine: S snapshots the selected tenant, B restores its latest
snapshot only after a yes, and the header says which snapshot each tenant runs on."""

from __future__ import annotations

from tests.tui.conftest import SIZE, make_app, settle
from tests.tui.fakes import healthy_events
from tui.screens.confirm import ConfirmScreen
from tui.widgets.header_bar import HeaderBar


def header(app) -> str:  # type: ignore[no-untyped-def]
    return str(app.query_one("#header", HeaderBar).render())


async def test_snapshot_then_restore_asks_first_and_shows_the_snapshot() -> None:
    app, engine = make_app(healthy_events())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("B")  # nothing to restore yet: a warning, no question, no call
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen) and engine.calls == [("start",)]
        await pilot.press("S")
        await settle(pilot)
        assert engine.calls[-1] == ("snapshot", "acme", None) and engine.snapshots("acme") == ["snap-1"]
        await pilot.press("B")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Restore acme to snapshot snap-1? [y/N]" in str(app.screen.query_one("#question").render())
        await pilot.press("enter")  # default: no
        await settle(pilot)
        assert engine.calls[-1][0] == "snapshot" and "data:" not in header(app)
        await pilot.press("B", "y")
        await settle(pilot)
        assert engine.calls[-1] == ("restore", "acme", "snap-1")
        assert "data: acme@snap-1" in header(app)
        assert "globex" not in header(app).split("data:")[1]


async def test_help_lists_the_data_keys() -> None:
    from tui.keys import KEYS

    keys = {k.key: k for k in KEYS}
    assert keys["S"].action == "snapshot" and "asks first" in keys["B"].help
