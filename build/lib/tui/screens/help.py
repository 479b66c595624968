"""The ``?`` screen: every key, generated from the same table as the bindings and the footer."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.keys import KEYS


def keys_table() -> Table:
    table = Table(box=None, show_header=False, padding=(0, 2, 0, 0))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for k in KEYS:
        table.add_row(k.shown_as, k.help)
    table.add_row("ctrl+p", "Command palette: every action above, by name")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding("escape", "close", "close"),
        Binding("question_mark", "close", "close", show=False),
        Binding("q", "close", "close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static("devenv: keys", id="help-title")
            yield Static(keys_table(), id="help-keys")
            yield Static("Every action here is also a devenv CLI command.", id="help-foot")

    def action_close(self) -> None:
        self.dismiss(None)
