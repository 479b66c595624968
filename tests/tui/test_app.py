"""Drive the real app with Pilot over a FakeEngine; assert on app state and recorded calls."""

from __future__ import annotations

from tests.tui.conftest import SIZE, make_app, settle
from tests.tui.fakes import burst, failed_build_events, healthy_events, starting_events
from tui.logstore import Scope
from tui.screens.confirm import ConfirmScreen
from tui.screens.detail import DetailScreen
from tui.screens.help import HelpScreen
from tui.widgets.tenant_tree import TenantTree


def labels(tree: TenantTree) -> dict[str, str]:
    out = {}
    for tenant in tree.root.children:
        assert tenant.data is not None
        out[tenant.data.tenant] = str(tenant.label)
        for comp in tenant.children:
            assert comp.data is not None
            out[f"{comp.data.tenant}/{comp.data.component}"] = str(comp.label)
    return out


def log_text(app) -> list[str]:  # type: ignore[no-untyped-def]
    return list(app.logs.log_widget.lines)


async def test_tree_shows_tenants_components_and_states() -> None:
    app, engine = make_app(healthy_events())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert engine.calls[0] == ("start",)
        got = labels(app.tenant_tree)
        assert "acme" in got["acme"] and "✓ healthy 4/4" in got["acme"]
        assert "✓ ok" in got["acme/web"] and ":18001" in got["acme/web"] and "a41c9e2" in got["acme/web"]
        assert "cached" in got["globex/worker"]
        assert set(got) >= {"globex", "globex/postgres"}


async def test_build_progress_shows_on_the_component_line() -> None:
    app, _ = make_app(starting_events())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        got = labels(app.tenant_tree)
        assert "build 3/7 [###----]" in got["acme/web"]
        assert "1 cached" in got["acme/web"]
        assert "waiting for base" in got["acme/api"]
        assert "◐ building" in got["acme"]


async def test_failed_build_is_marked_on_the_component() -> None:
    app, _ = make_app(failed_build_events())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "✗ build failed" in labels(app.tenant_tree)["globex/api"]


async def test_selecting_a_component_scopes_the_log_pane() -> None:
    app, _ = make_app(healthy_events())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        lines = log_text(app)  # cursor starts on acme: all of acme's components
        assert any(" web " in line for line in lines) and any(" api " in line for line in lines)
        assert not any("orders 200" in line for line in lines)  # globex's
        await pilot.press("down", "down")  # acme -> web -> api
        await settle(pilot)
        assert app.tenant_tree.target is not None and app.tenant_tree.target.component == "api"
        assert log_text(app) == ["22:13:30 api      enqueued job 812 (export)"]
        assert app.logs.border_title.startswith("logs: acme / api")


async def test_space_marks_several_components_across_tenants() -> None:
    app, _ = make_app(healthy_events())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.tenant_tree.move_to("acme", "web")
        await pilot.press("space")
        app.tenant_tree.move_to("globex", "web")
        await pilot.press("space")
        await settle(pilot)
        lines = log_text(app)
        assert [line.split()[1] for line in lines] == ["acme/web", "globex/web", "acme/web"]
        assert "■" in labels(app.tenant_tree)["globex/web"]
        await pilot.press("escape")  # clears the marks: back to the cursor's component
        await settle(pilot)
        assert all("globex/web" in line or " web " in line for line in log_text(app))
        assert "■" not in labels(app.tenant_tree)["globex/web"]


async def test_marking_a_tenant_marks_its_components() -> None:
    app, _ = make_app(healthy_events())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.tenant_tree.move_to("globex")
        await pilot.press("space")
        await settle(pilot)
        assert all("■" in v for k, v in labels(app.tenant_tree).items() if k.startswith("globex"))
        assert app.tenant_tree.marked_targets()[0].tenant == "globex"


async def test_filter_keeps_matching_lines_and_esc_clears_it() -> None:
    app, _ = make_app(healthy_events())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"error", "enter")
        await settle(pilot)
        assert log_text(app) == ["22:13:33 web      GET /orders error 500 in 12 ms"]
        assert "/ filter: error" in app.logs.border_title
        await pilot.press("u")  # keys work again after enter (the box closed)
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert len(log_text(app)) == 4
        assert "filter" not in app.logs.border_title


async def test_filter_box_consumes_letters_instead_of_firing_keys() -> None:
    app, engine = make_app(healthy_events())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"GET /(orders|x)", "enter")
        await settle(pilot)
        assert [c[0] for c in engine.calls] == ["start"]
        assert len(log_text(app)) == 1


async def test_keys_call_the_engine() -> None:
    app, engine = make_app(healthy_events())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("u", "r")  # on the tenant: up acme, rebuild all
        app.tenant_tree.move_to("acme", "web")
        await pilot.press("r", "R", "o")
        await settle(pilot)
        assert engine.calls[1:] == [("up", ["acme"]), ("rebuild", None), ("rebuild", "web"),
                                    ("restart", "acme", "web")]
        assert app.opened == ["http://127.0.0.1:18001/"]  # type: ignore[attr-defined]
        assert app.clipboard == "http://127.0.0.1:18001/"


async def test_shell_without_a_terminal_shows_the_command() -> None:
    app, engine = make_app(healthy_events())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.tenant_tree.move_to("globex", "api")
        await pilot.press("s")
        await settle(pilot)
        assert ("shell_argv", "globex", "api") in engine.calls
        notes = [n.message for n in app._notifications]
        assert "docker exec -it devenv-globex-api-1 sh" in notes


async def test_component_keys_on_a_tenant_ask_for_a_component() -> None:
    app, engine = make_app(healthy_events())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("R")
        await settle(pilot)
        assert engine.calls == [("start",)]
        assert any("select a component" in n.message for n in app._notifications)


async def test_up_acts_on_marked_tenants() -> None:
    app, engine = make_app(healthy_events())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.tenant_tree.move_to("acme")
        await pilot.press("space")
        app.tenant_tree.move_to("globex")
        await pilot.press("space", "u")
        await settle(pilot)
        assert engine.calls[-1] == ("up", ["acme", "globex"])


async def test_down_asks_first() -> None:
    app, engine = make_app(healthy_events())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("d")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert engine.calls == [("start",)]
        await pilot.press("u")  # engine keys are off while the question is up
        await pilot.press("enter")  # default: no
        await settle(pilot)
        assert engine.calls == [("start",)]
        await pilot.press("d", "y")
        await settle(pilot)
        assert engine.calls[-1] == ("down", "acme", False)


async def test_quit_asks_and_leaves_tenants_running_by_default() -> None:
    app, engine = make_app(healthy_events())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q")
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        assert "Leave tenants running? [Y/n]" in str(app.screen.query_one("#question").render())
        await pilot.press("enter")
        await settle(pilot)
    assert engine.calls[-1] == ("stop", True)
    assert app.return_code == 0


async def test_quit_answering_no_takes_tenants_down() -> None:
    app, engine = make_app(healthy_events())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q", "n")
        await settle(pilot)
    assert engine.calls[-1] == ("stop", False)


async def test_quit_default_can_be_no() -> None:
    app, engine = make_app(healthy_events(), leave_running_default=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q", "enter")
        await settle(pilot)
    assert engine.calls[-1] == ("stop", False)


async def test_quit_escape_stays() -> None:
    app, engine = make_app(healthy_events())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("q", "escape")
        await settle(pilot)
        assert app.is_running and not isinstance(app.screen, ConfirmScreen)
        assert engine.calls == [("start",)]


async def test_ctrl_c_quits_without_asking_and_leaves_tenants_running() -> None:
    app, engine = make_app(healthy_events())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+c")
        await settle(pilot)
    assert engine.calls[-1] == ("stop", True)
    assert app.return_code == 0


async def test_stop_failure_exits_non_zero() -> None:
    app, engine = make_app(healthy_events())
    engine.fail["stop"] = RuntimeError("docker went away")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+c")
        await settle(pilot)
    assert app.return_code == 1


async def test_timeline_enter_opens_the_failed_builds_log() -> None:
    app, _ = make_app(failed_build_events())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.timeline.focus()
        await pilot.press("enter")  # newest first: the failed build
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        assert screen.entry.kind == "fail"
        assert "ERROR: No matching distribution found for flask==9.9" in screen.query_one("#detail-log").lines
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, DetailScreen)


async def test_help_screen_lists_every_key() -> None:
    from tests.tui.test_trust import screen_text
    from tui.keys import KEYS

    app, _ = make_app(healthy_events())
    async with app.run_test(size=(140, 50)) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        rows = [" ".join(line.split()) for line in screen_text(app).splitlines()]
        for key in KEYS:  # each key drawn on the row that says what it does
            start = " ".join(key.help.split()[:4])
            assert any(f"{key.shown_as} {start}" in row for row in rows), (key.shown_as, start)
        assert any("ctrl+p Command palette" in row for row in rows)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, HelpScreen)


async def test_command_failure_becomes_a_notification_and_timeline_entry() -> None:
    app, engine = make_app(healthy_events())
    engine.fail["rebuild"] = RuntimeError("no space left on device")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        assert app.is_running
        assert app.state.timeline[-1].kind == "fail"
        assert "rebuild all failed: no space left on device" in app.state.timeline[-1].message
        assert any("no space left" in n.message for n in app._notifications)


async def test_pending_command_shows_engine_slow() -> None:
    app, engine = make_app(healthy_events(), slow_after=0.0)
    engine.hang.add("rebuild")
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("r")
        await settle(pilot)
        app.refresh_header()
        assert "engine slow (rebuild all)" in str(app.query_one("#header").render())
        engine.release()
        await settle(pilot)
        app.refresh_header()
        assert "engine ok" in str(app.query_one("#header").render())


async def test_engine_down_shows_in_header() -> None:
    from devenv.events import EngineHealth

    app, engine = make_app([*healthy_events(), EngineHealth(ok=False, detail="docker not answering")])
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert "engine down: docker not answering" in str(app.query_one("#header").render())


async def test_burst_keeps_keys_prompt_and_buffers_bounded() -> None:
    app, engine = make_app(healthy_events(), per_component=2_000, total_lines=3_000)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        following = app.logs.follow
        lines = burst(5_000)
        for i in range(0, 5_000, 500):  # stream in chunks; press a key mid-flood
            engine.emit(*lines[i:i + 500])
            if i == 2_500:
                await pilot.press("f")
                assert app.logs.follow is not following  # handled while lines were still coming
        await settle(pilot)
        assert len(app.store) <= 3_000
        assert len(app.store.view(Scope(keys=frozenset({("acme", "web")})))) == 2_000
        assert app.bridge.pending == 0
        assert len(app.logs.log_widget.lines) <= 3_000
        assert app.logs.log_widget.lines[-1].endswith("burst line 4999")


async def test_palette_offers_every_action() -> None:
    app, _ = make_app(healthy_events())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("Up", "Down", "Rebuild", "Restart", "Shell", "Open", "Filter", "Quit"):
            assert title in titles
        assert titles.count("Quit") == 1
