"""The engine's public surface, as the CLI and the TUI use it.

Subscribers get every event (on the engine's asyncio loop) and fold them with
``devenv.engine.state.reduce`` or read ``engine.state``. They act through the async commands below;
none of them blocks the loop (blocking work runs in threads) and none raises for an ordinary
failure: failures become ``Timeline(kind="fail", ...)`` events with their log tail.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from devenv.engine.state import State
from devenv.events import Event

Subscriber = Callable[[Event], None]


class EngineAPI(Protocol):
    state: State
    tenants: list[str]  # the tenants this session manages

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Call ``fn`` with every event from now on; returns the unsubscribe function."""

    async def start(self) -> None:
        """Build, bring every tenant up (waiting for health), stream logs, start watching."""

    async def stop(self, leave_running: bool = True) -> None:
        """Stop watching and log streaming; with ``leave_running=False`` also take tenants down
        (volumes kept)."""

    async def up(self, tenants: list[str]) -> None: ...

    async def down(self, tenant: str, volumes: bool = False) -> None: ...

    async def rebuild(self, component: str | None = None) -> None:
        """Rebuild the image of ``component`` (all built images when None), then redeploy
        every tenant component running it."""

    async def restart(self, tenant: str, component: str) -> None: ...

    def shell_argv(self, tenant: str, component: str) -> list[str]:
        """The argv that opens an interactive shell in the component (``docker exec -it ...``)."""

    def url(self, tenant: str, component: str) -> str | None: ...
