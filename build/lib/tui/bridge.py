"""The bridge between the engine's subscriber callback and the Textual app.

The engine calls subscribers on its own loop (the app's loop when the engine runs in an async
worker, but possibly another thread). The bridge never touches widgets: state events become
``EngineEvent`` messages (``post_message`` is thread-safe), and log lines go into a bounded
queue that the app drains on a timer, so a burst of thousands of lines costs one widget write per
tick instead of one message per line.
"""

from __future__ import annotations

from collections import deque

from textual.message import Message
from textual.message_pump import MessagePump

from devenv.events import Event, LogLine


class EngineEvent(Message):
    """A non-log engine event, delivered on the app's thread."""

    def __init__(self, event: Event) -> None:
        super().__init__()
        self.event = event


class EngineBridge:
    """The engine subscriber. ``max_pending`` bounds the lines waiting for the next flush, so even
    a UI that stalls cannot make memory grow."""

    def __init__(self, target: MessagePump, max_pending: int = 50_000) -> None:
        self._target = target
        self._lines: deque[LogLine] = deque(maxlen=max_pending)
        self.dropped = 0

    def __call__(self, event: Event) -> None:
        if isinstance(event, LogLine):
            if len(self._lines) == self._lines.maxlen:
                self.dropped += 1
            self._lines.append(event)
        else:
            self._target.post_message(EngineEvent(event))

    def drain(self) -> list[LogLine]:
        """Every line received since the last drain (deque pops are atomic across threads)."""
        out: list[LogLine] = []
        pop = self._lines.popleft
        try:
            while True:
                out.append(pop())
        except IndexError:
            return out

    @property
    def pending(self) -> int:
        return len(self._lines)
