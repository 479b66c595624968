"""A timeline entry in full: a failed build's log tail, the files a sync copied, the cause."""

from __future__ import annotations

from datetime import tzinfo

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Log, Static

from devenv.events import Timeline
from tui.format import format_ms, hhmmss


def detail_heading(entry: Timeline, tz: tzinfo | None) -> str:
    who = entry.component or "devenv"
    if entry.tenants:
        who += f" ({', '.join(entry.tenants)})"
    cost = f" in {format_ms(entry.cost_ms)}" if entry.cost_ms is not None else ""
    return f"{hhmmss(entry.ts, tz)}  {entry.kind}  {who}{cost}\n{entry.message}"


class DetailScreen(Screen[None]):
    BINDINGS = [
        Binding("escape", "close", "back"),
        Binding("q", "close", "back", show=False),
    ]

    def __init__(self, entry: Timeline, lines: tuple[str, ...], tz: tzinfo | None = None) -> None:
        super().__init__()
        self.entry = entry
        self.lines = lines
        self.tz = tz

    def compose(self) -> ComposeResult:
        yield Static(detail_heading(self.entry, self.tz), id="detail-heading", markup=False)
        yield Log(highlight=False, id="detail-log")
        yield Footer()

    def on_mount(self) -> None:
        log = self.query_one(Log)
        log.border_title = "log tail" if self.entry.kind == "fail" else "detail"
        log.write_lines(self.lines or ("(the engine sent no detail for this entry)",))
        log.focus()

    def action_close(self) -> None:
        self.dismiss(None)
