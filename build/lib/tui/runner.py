"""Runs engine commands in workers so the UI never waits on them.

Every command runs in a named worker with ``exit_on_error=False``; a failure becomes a
``CommandFailed`` message (shown as a notification and a timeline entry), never a crash. The
runner also knows how long each command has been pending, which is how the header says
"engine slow" instead of the screen freezing.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from typing import Any

from textual.app import App
from textual.message import Message
from textual.worker import Worker


class CommandFailed(Message):
    def __init__(self, name: str, error: BaseException) -> None:
        super().__init__()
        self.name = name
        self.error = error


class CommandRunner:
    def __init__(self, app: App[Any], clock: Callable[[], float] = time.monotonic) -> None:
        self._app = app
        self._clock = clock
        self._ids = itertools.count()
        self.pending: dict[int, tuple[str, float]] = {}

    def run(self, name: str, call: Callable[[], Awaitable[object]], *, group: str | None = None,
            exclusive: bool = False, track: bool = True) -> Worker[None]:
        """Start ``call()`` in a worker. ``exclusive`` cancels the group's previous command (a
        second rebuild of the same image replaces the first). ``track=False`` for commands that
        are long by design (``start``) and must not count as "engine slow"."""
        return self._app.run_worker(self._call(name, call, track), name=name, group=group or name,
                                    exclusive=exclusive, exit_on_error=False)

    async def _call(self, name: str, call: Callable[[], Awaitable[object]], track: bool) -> None:
        token = next(self._ids)
        if track:
            self.pending[token] = (name, self._clock())
        try:
            await call()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an engine command must never take the UI down
            self._app.post_message(CommandFailed(name, exc))
        finally:
            self.pending.pop(token, None)

    def slow(self, after: float) -> list[str]:
        """Commands pending for longer than ``after`` seconds."""
        now = self._clock()
        return [name for name, started in self.pending.values() if now - started > after]
