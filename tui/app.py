"""The devenv terminal UI: the whole inner loop on one screen.

The app owns no engine logic and no state of its own. It subscribes once, runs ``engine.start()`` in
one worker on its own loop (the engine is asyncio and never blocks), and on each event redraws from
``engine.state``, the engine's one store (the reducer applied to the events: what ``devenv status``
and the event log read too). It sends commands through workers so nothing ever waits on the engine. Log lines bypass the message
queue: the bridge buffers them and a timer flushes them to the store and the log pane in one write.
"""

from __future__ import annotations

import asyncio
import shlex
import subprocess
import time
import webbrowser
from collections.abc import Callable, Iterable
from datetime import tzinfo
from pathlib import Path
from typing import Any, TypeVar

from textual.app import App, ComposeResult, SuspendNotSupported, SystemCommand
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from devenv.engine.api import EngineAPI
from devenv.engine.state import State
from devenv.events import Timeline
from tui.bridge import EngineBridge, EngineEvent
from tui.format import hhmmss
from tui.keys import KEYS, bindings
from tui.logstore import PER_COMPONENT, TOTAL, LogStore
from tui.runner import CommandFailed, CommandRunner
from tui.screens.confirm import ConfirmScreen
from tui.screens.detail import DetailScreen
from tui.screens.help import HelpScreen
from tui.widgets.header_bar import HeaderBar, HeaderInfo
from tui.widgets.log_pane import LogPane
from tui.widgets.tenant_tree import Target, TenantTree
from tui.widgets.timeline import TimelineView

W = TypeVar("W", bound=Widget)

# Actions that talk to the engine or act on the main screen: off while another screen is on top.
MAIN_SCREEN_ACTIONS = frozenset(k.action for k in KEYS if k.action and k.action not in ("quit_now", "help"))


class DevenvApp(App[int]):
    CSS_PATH = str(Path(__file__).with_name("app.tcss"))  # absolute: subclasses live elsewhere
    TITLE = "devenv"
    BINDINGS = bindings()  # type: ignore[assignment]

    def __init__(
        self,
        engine: EngineAPI,
        leave_running_default: bool = True,
        *,
        clock: Callable[[], float] = time.time,
        tz: tzinfo | None = None,
        flush_interval: float = 0.08,
        slow_after: float = 2.0,
        per_component: int = PER_COMPONENT,
        total_lines: int = TOTAL,
        open_url: Callable[[str], object] = webbrowser.open,
        run_shell: Callable[[list[str]], int] = subprocess.call,
    ) -> None:
        """``clock``/``tz`` fix the header clock and timestamps (deterministic snapshots);
        ``open_url``/``run_shell`` are the side effects tests replace."""
        super().__init__()
        self.engine = engine
        self.leave_running_default = leave_running_default
        self.clock = clock
        self.tz = tz
        self.flush_interval = flush_interval
        self.slow_after = slow_after
        self.open_url_fn = open_url
        self.run_shell_fn = run_shell
        self.store = LogStore(per_component, total_lines)
        self.bridge = EngineBridge(self, max_pending=total_lines)
        self.runner = CommandRunner(self)
        self.note = ""
        self.stopping = False
        self._unsubscribe: Callable[[], None] | None = None
        self._refresh_scheduled = False
        self.data_labels: dict[str, str] = {}  # tenant -> the snapshot its data came from

    @property
    def state(self) -> State:
        """What the screen shows: the engine's store, never a copy folded here."""
        return self.engine.state

    # -- layout and start --------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield HeaderBar(id="header")
        with Horizontal(id="main"):
            yield TenantTree(id="tree")
            yield LogPane(self.store, tz=self.tz, id="logs")
        yield TimelineView(tz=self.tz, id="timeline")
        yield Footer()

    def on_mount(self) -> None:
        self.tenant_tree.border_title = "tenants"
        self.timeline.border_title = "timeline"
        self._unsubscribe = self.engine.subscribe(self.bridge)
        self.refresh_state()
        self.tenant_tree.focus()
        self.set_interval(self.flush_interval, self.flush_logs, name="flush-logs")
        self.set_interval(0.5, self.refresh_header, name="header")
        self.runner.run("start", self.engine.start, group="engine", track=False)
        self.run_worker(self._read_data_labels, thread=True, name="data-labels", exit_on_error=False)

    def _read_data_labels(self) -> None:
        labels = {t: self.engine.data_label(t) for t in self.engine.tenants}
        self.call_from_thread(self._set_data_labels, labels)

    def _set_data_labels(self, labels: dict[str, str]) -> None:
        self.data_labels.update(labels)
        self.refresh_header()

    def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()

    @property
    def tenant_tree(self) -> TenantTree:
        return self.screen_stack[0].query_one("#tree", TenantTree)

    @property
    def logs(self) -> LogPane:
        return self.screen_stack[0].query_one("#logs", LogPane)

    @property
    def timeline(self) -> TimelineView:
        return self.screen_stack[0].query_one("#timeline", TimelineView)

    # -- engine events -----------------------------------------------------------------------
    def on_engine_event(self, message: EngineEvent) -> None:
        """The engine's store already holds the event: redraw from it."""
        if not self._refresh_scheduled:  # a burst of queued events costs one refresh
            self._refresh_scheduled = True
            self.call_later(self.refresh_state)

    def refresh_state(self) -> None:
        self._refresh_scheduled = False
        tree, timeline = self._pane("#tree", TenantTree), self._pane("#timeline", TimelineView)
        if tree is None or timeline is None:
            return
        first = tree.cursor_line < 0
        tree.show_state(self.state, list(self.engine.tenants))
        if first and tree.root.children:
            tree.cursor_line = 0
        timeline.show_entries(self.state.timeline)
        self.refresh_header()

    def flush_logs(self) -> None:
        """The timer tick: every buffered line goes to the store and, in one write, to the pane."""
        lines = self.bridge.drain()
        if lines:
            records = self.store.extend(lines)
            pane = self._pane("#logs", LogPane)
            if pane is not None:
                pane.append(records)

    def refresh_header(self) -> None:
        header = self._pane("#header", HeaderBar)
        if header is not None:
            header.show(HeaderInfo(self.state, len(self.engine.tenants), tuple(self.runner.slow(self.slow_after)),
                                   hhmmss(self.clock(), self.tz), self.note,
                                   ", ".join(f"{t}@{n}" for t, n in sorted(self.data_labels.items()) if n)))

    def _pane(self, selector: str, kind: type[W]) -> W | None:
        """A main-screen pane, also while another screen is on top; None while tearing down
        (a timer may tick after the panes are gone)."""
        try:
            return self.screen_stack[0].query_one(selector, kind)
        except (NoMatches, IndexError):
            return None

    def on_command_failed(self, message: CommandFailed) -> None:
        text = f"{message.name} failed: {message.error}"
        self.notify(text, title="devenv", severity="error", timeout=8)
        self.engine.emit(Timeline(kind="fail", message=text, ts=self.clock()))  # into the store and the log

    # -- panes talking to each other ---------------------------------------------------------
    def on_tenant_tree_scope_changed(self, message: TenantTree.ScopeChanged) -> None:
        self.logs.set_scope(message.scope)

    def on_timeline_view_chosen(self, message: TimelineView.Chosen) -> None:
        entry = message.entry
        lines = entry.detail or self._build_log(entry.component)
        self.push_screen(DetailScreen(entry, lines, self.tz))

    def _build_log(self, component: str) -> tuple[str, ...]:
        build = self.state.builds.get(component)
        return build.log_tail if build else ()

    # -- actions -----------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return not (action in MAIN_SCREEN_ACTIONS and len(self.screen_stack) > 1)

    def _target(self) -> Target | None:
        target = self.tenant_tree.target
        if target is None:
            self.notify("no tenant selected", severity="warning")
        return target

    def _component_target(self, verb: str) -> tuple[str, str] | None:
        target = self._target()
        if target is None:
            return None
        if target.component is None:
            self.notify(f"select a component of {target.tenant} to {verb}", severity="warning")
            return None
        return target.tenant, target.component

    def _selected_tenants(self) -> list[str]:
        marked = list(dict.fromkeys(t.tenant for t in self.tenant_tree.marked_targets()))
        if marked:
            return marked
        target = self._target()
        return [target.tenant] if target else []

    def action_up(self) -> None:
        tenants = self._selected_tenants()
        if tenants:
            engine = self.engine
            # long by design (build, start, health wait; the tree shows its progress): not "engine slow"
            self.runner.run(f"up {', '.join(tenants)}", lambda: engine.up(tenants),
                            group=f"tenants:{','.join(tenants)}", exclusive=True, track=False)

    def action_down(self) -> None:
        target = self._target()
        if target is None:
            return
        tenant = target.tenant

        def answered(yes: bool | None) -> None:
            if yes:
                self.runner.run(f"down {tenant}", lambda: self.engine.down(tenant),
                                group=f"tenants:{tenant}", exclusive=True)

        self.push_screen(ConfirmScreen(f"Take {tenant} down?", default=False,
                                       detail="Its containers stop; volumes (data) are kept."), answered)

    def action_rebuild(self) -> None:
        target = self._target()
        if target is None:
            return
        component = target.component
        self.runner.run(f"rebuild {component or 'all'}", lambda: self.engine.rebuild(component),
                        group=f"rebuild:{component}", exclusive=True)

    def action_restart(self) -> None:
        picked = self._component_target("restart")
        if picked:
            tenant, component = picked
            self.runner.run(f"restart {tenant}/{component}", lambda: self.engine.restart(tenant, component),
                            group=f"restart:{tenant}/{component}", exclusive=True)

    async def action_shell(self) -> None:
        picked = self._component_target("open a shell in")
        if picked:
            await self._run_shell(self.engine.shell_argv(*picked))

    async def _run_shell(self, argv: list[str]) -> None:
        """Hand the terminal to the shell. The subprocess waits in a thread so the engine (same
        loop) keeps syncing; ``batch_update`` keeps the app from painting while suspended."""
        try:
            with self.batch_update(), self.suspend():
                code = await asyncio.to_thread(self.run_shell_fn, argv)
        except SuspendNotSupported:
            self.notify(shlex.join(argv), title="shell: run this in a terminal", timeout=15)
            return
        except OSError as exc:
            self.notify(f"{shlex.join(argv)}: {exc}", title="shell failed", severity="error")
            return
        finally:
            self.refresh(layout=True, repaint=True)
        if code:
            self.notify(f"shell exited with {code}", severity="warning")

    def action_snapshot(self) -> None:
        target = self._target()
        if target is None:
            return
        tenant = target.tenant

        async def take() -> None:
            name = await self.engine.snapshot(tenant)
            self.notify(f"{tenant}: snapshot {name} taken", title="data")

        self.runner.run(f"snapshot {tenant}", take, group=f"data:{tenant}")

    def action_restore(self) -> None:
        target = self._target()
        if target is None:
            return
        tenant = target.tenant
        names = self.engine.snapshots(tenant)
        if not names:
            self.notify(f"{tenant} has no snapshot yet: S takes one", severity="warning")
            return
        name = names[-1]

        async def restore() -> None:
            await self.engine.restore(tenant, name)
            self.data_labels[tenant] = name
            self.refresh_header()

        def answered(yes: bool | None) -> None:
            if yes:
                self.runner.run(f"restore {tenant}", restore, group=f"data:{tenant}", exclusive=True)

        self.push_screen(ConfirmScreen(f"Restore {tenant} to snapshot {name}?", default=False,
                                       detail="Its current data is replaced (S first keeps it); what depends "
                                              "on it restarts. Other tenants are not touched."), answered)

    def action_open(self) -> None:
        target = self._target()
        if target is None:
            return
        url = self._url_for(target)
        if not url:
            self.notify(f"{target.component or target.tenant} has no URL", severity="warning")
            return
        self.copy_to_clipboard(url)
        self.notify(f"{url} (copied)", title="opening")
        self.run_worker(lambda: self.open_url_fn(url), thread=True, name="open-url", exit_on_error=False)

    def _url_for(self, target: Target) -> str | None:
        if target.component is not None:
            return self.engine.url(target.tenant, target.component)
        for comp in self.state.tenant_components(target.tenant):
            url = self.engine.url(target.tenant, comp.component)
            if url:
                return url
        return None

    def action_focus_logs(self) -> None:
        self.logs.log_widget.focus()

    def action_follow(self) -> None:
        following = self.logs.toggle_follow()
        self.notify("following the logs" if following else "log follow paused", timeout=2)

    def action_raw_logs(self) -> None:
        raw = self.logs.toggle_raw()
        self.notify("raw log lines" if raw else "structured log lines", timeout=2)

    def action_filter(self) -> None:
        self.logs.show_filter_input()

    def action_next_tenant(self) -> None:
        self.tenant_tree.next_tenant()
        self.tenant_tree.focus()

    def action_clear_or_back(self) -> None:
        if self.logs.pattern:
            self.logs.set_filter("")
        elif not self.tenant_tree.clear_marks():
            self.tenant_tree.focus()

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    # -- quitting ----------------------------------------------------------------------------
    def action_request_quit(self) -> None:
        self.push_screen(
            ConfirmScreen("Leave tenants running?", default=self.leave_running_default,
                          detail="n takes them down (volumes kept); esc stays here."),
            self.quit_with,
        )

    def action_quit_now(self) -> None:
        """ctrl+c: quit without asking and leave the tenants running. A reflex key must never take
        anything down (skaffold#812). A second ctrl+c while stopping exits at once."""
        if self.stopping:
            self.exit(return_code=130)
        else:
            self.quit_with(True)

    def quit_with(self, leave_running: bool | None) -> None:
        if leave_running is None or self.stopping:
            return
        self.stopping = True
        self.note = "stopping..." if leave_running else "taking tenants down..."
        self.refresh_header()
        self.runner.run("stop", lambda: self._stop_and_exit(leave_running), group="stop", track=False)

    async def _stop_and_exit(self, leave_running: bool) -> None:
        try:
            await self.engine.stop(leave_running=leave_running)
        except Exception as exc:
            self.exit(return_code=1, message=f"devenv: stopping failed: {exc}")
            return
        self.exit(return_code=0)

    # -- command palette ---------------------------------------------------------------------
    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title != "Quit":  # ours asks first
                yield command
        for key in KEYS:
            if key.palette and key.action:
                yield SystemCommand(key.label.capitalize(), key.help, getattr(self, f"action_{key.action}"))
