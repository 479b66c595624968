"""The timeline: where "why" lives. Every sync, rebuild, restart and failure with cause and cost,
newest first; enter opens an entry's full detail (a failed build's log, the files synced)."""

from __future__ import annotations

from datetime import tzinfo

from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from devenv.engine.events import Timeline
from tui.format import timeline_label


class TimelineView(OptionList):
    class Chosen(Message):
        """Enter on an entry: the app opens its detail screen."""

        def __init__(self, entry: Timeline) -> None:
            super().__init__()
            self.entry = entry

    def __init__(self, *, tz: tzinfo | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tz = tz
        self.entries: tuple[Timeline, ...] = ()  # newest first

    def show_entries(self, timeline: tuple[Timeline, ...]) -> None:
        """Timeline events are rare (one per sync/rebuild), so replacing the options is cheap;
        the highlight stays on the same entry as new ones arrive above it."""
        entries = tuple(reversed(timeline))
        if entries == self.entries:
            return
        kept = self.entries[self.highlighted] if self.highlighted is not None and self.entries else None
        self.entries = entries
        self.set_options(Option(timeline_label(e, self.tz)) for e in entries)
        if kept is not None and kept in entries:
            self.highlighted = entries.index(kept)
        elif entries:
            self.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self.entries):
            self.post_message(self.Chosen(self.entries[event.option_index]))
