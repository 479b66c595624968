"""A yes/no question with a default, answered with one key: ``Leave tenants running? [Y/n]``.

Dismisses with True/False, or None when escaped (the caller then does nothing)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static


class ConfirmScreen(ModalScreen[bool | None]):
    BINDINGS = [
        Binding("y", "answer(True)", "yes"),
        Binding("n", "answer(False)", "no"),
        Binding("enter", "default", "default", show=False),
        Binding("escape", "answer(None)", "cancel"),
    ]

    def __init__(self, question: str, default: bool, detail: str = "") -> None:
        super().__init__()
        self.question = question
        self.default = default
        self.detail = detail

    def compose(self) -> ComposeResult:
        hint = "[Y/n]" if self.default else "[y/N]"
        with Vertical(id="dialog"):
            yield Static(f"{self.question} {hint}", id="question", markup=False)
            if self.detail:
                yield Static(self.detail, id="detail", markup=False)
            yield Static("y yes   n no   enter default   esc cancel", id="keys", markup=False)

    def action_answer(self, value: bool | None) -> None:
        self.dismiss(value)

    def action_default(self) -> None:
        self.dismiss(self.default)
