"""The one-line header: app, backend, engine health, watching, tenants, clock.

"engine slow" shows here when a command has been pending too long, so a slow engine reads as a
word in the header and never as a frozen screen.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.widgets import Static

from devenv.engine.state import State


@dataclass(frozen=True)
class HeaderInfo:
    state: State
    tenants: int
    slow: tuple[str, ...] = ()
    clock: str = ""
    note: str = ""  # e.g. "stopping..."


def engine_status(info: HeaderInfo) -> tuple[str, str]:
    if not info.state.engine_ok:
        detail = f": {info.state.engine_detail}" if info.state.engine_detail else ""
        return f"✗ engine down{detail}", "bold red"
    if info.slow:
        return f"! engine slow ({', '.join(info.slow)})", "bold yellow"
    return "✓ engine ok", "green"


def header_text(info: HeaderInfo, width: int) -> Text:
    s = info.state
    text = Text(" devenv  ", "bold")
    if s.app:
        text.append(f"{s.app}  ", "bold")
    text.append(f"{s.backend}  ")
    word, style = engine_status(info)
    text.append(word, style)
    text.append("  ")
    text.append(f"watching {s.watched_files:,} files" if s.watching else "not watching")
    text.append(f"  {info.tenants} tenant{'s' if info.tenants != 1 else ''}")
    if info.note:
        text.append(f"  {info.note}", "bold yellow")
    pad = max(2, width - text.cell_len - len(info.clock) - 1)
    text.append(" " * pad + info.clock + " ")
    return text


class HeaderBar(Static):
    """Rendered from a ``HeaderInfo``; the app decides what goes in, this only lays it out."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self._info: HeaderInfo | None = None

    def show(self, info: HeaderInfo) -> None:
        if info != self._info:
            self._info = info
            self.update(header_text(info, self.size.width or 80))

    def on_resize(self) -> None:
        if self._info is not None:
            self.update(header_text(self._info, self.size.width))
