"""Every key the TUI answers to, in one table.

The app's bindings, the footer, the ``?`` help screen and the command palette all read this table,
so they cannot drift apart. Each engine action here also exists as a CLI command.
"""

from __future__ import annotations

from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class Key:
    key: str
    action: str
    label: str
    help: str
    display: str | None = None
    show: bool = True
    priority: bool = False
    palette: bool = True  # offered in the command palette

    @property
    def shown_as(self) -> str:
        return self.display or self.key


KEYS: tuple[Key, ...] = (
    Key("u", "up", "up", "Bring the selected tenant up (or the tenants you marked with space)"),
    Key("d", "down", "down", "Take the selected tenant down; asks first, volumes are kept"),
    Key("r", "rebuild", "rebuild", "Rebuild the selected component's image (on a tenant: every image), then redeploy"),
    Key("R", "restart", "restart", "Restart the selected component"),
    Key("s", "shell", "shell", "Open a shell in the selected component; exit it to come back"),
    Key("o", "open", "open", "Open the selected component's URL in the browser (also copied)"),
    Key("l", "focus_logs", "logs", "Focus the log pane"),
    Key("f", "follow", "follow", "Follow the end of the logs on/off"),
    Key("j", "raw_logs", "raw", "Show JSON log lines as written (raw) or as level, message, key=value",
        show=False),
    Key("slash", "filter", "filter", "Filter the logs: a regex, or plain text if it is not one", display="/"),
    Key("t", "next_tenant", "tenants", "Jump to the next tenant"),
    Key("space", "", "select", "Mark or unmark the highlighted tenant or component; the logs show all "
        "marked ones", show=False, palette=False),
    Key("enter", "", "details", "On a timeline entry: its full detail (build log, files synced)",
        show=False, palette=False),
    Key("escape", "clear_or_back", "back", "Clear the filter, then the marks; close a screen", show=False),
    Key("question_mark", "help", "help", "This help", display="?"),
    Key("q", "request_quit", "quit", "Quit; asks whether to leave the tenants running (default: yes)"),
    Key("ctrl+c", "quit_now", "quit now", "Quit at once, leaving the tenants running (never takes "
        "anything down)", show=False, priority=True, palette=False),
    Key("ctrl+q", "quit_now", "quit now", "Same as ctrl+c", show=False, priority=True, palette=False),
)


def bindings() -> list[Binding]:
    return [Binding(k.key, k.action, k.label, show=k.show, key_display=k.display, priority=k.priority)
            for k in KEYS if k.action]
