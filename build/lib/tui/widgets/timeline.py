"""The timeline: where "why" lives. Every sync, rebuild, restart and failure with cause and cost,
newest first; enter opens an entry's full detail (a failed build's log, the files synced)."""

from __future__ import annotations

from datetime import tzinfo

from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from devenv.events import Timeline
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
        self.waiting = 0  # entries that arrived above while the user looked at an older one

    @property
    def following(self) -> bool:
        """True while the newest entry is highlighted (or none is): new entries take the top."""
        return self.highlighted in (None, 0) or not self.entries

    def show_entries(self, timeline: tuple[Timeline, ...]) -> None:
        """Timeline events are rare (one per sync/rebuild), so replacing the options is cheap.
        The newest entry stays in view unless the user moved the highlight away from it; then
        the highlight stays on the entry the user reads and the title counts the new ones."""
        entries = tuple(reversed(timeline))
        if entries == self.entries:
            return
        kept = None if self.following else self.entries[self.highlighted or 0]
        arrived = _arrived(self.entries, entries)
        self.entries = entries
        self.set_options(Option(timeline_label(e, self.tz)) for e in entries)
        if kept is not None and kept in entries:
            self.waiting += arrived
            self.highlighted = entries.index(kept)
        else:
            self.waiting = 0
            self.highlighted = 0 if entries else None
        self._retitle()

    def _retitle(self) -> None:
        self.border_subtitle = (f"↑ {self.waiting} new above (home: newest)" if self.waiting else "")

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        if event.option_index == 0 and self.waiting:
            self.waiting = 0
            self._retitle()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if 0 <= event.option_index < len(self.entries):
            self.post_message(self.Chosen(self.entries[event.option_index]))


def _arrived(old: tuple[Timeline, ...], new: tuple[Timeline, ...]) -> int:
    """How many entries of ``new`` (newest first) are newer than everything in ``old``."""
    if not old:
        return len(new)
    try:
        return new.index(old[0])
    except ValueError:
        return len(new)
