"""The engine's public surface, as the CLI and the TUI use it.

``engine.state`` is the one store: the reducer (``devenv.engine.state.reduce``) applied to every
event the engine emitted. Subscribers get every event (on the engine's asyncio loop); a frontend
that shows state reads ``engine.state`` when an event arrives rather than keeping a folded copy of
its own (the TUI does so), and a script folding the events gets the same value. They act through
the async commands below;
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

    def emit(self, ev: Event) -> None:
        """Put ``ev`` into the store and before every subscriber (thread-safe): how a frontend
        reports what happened on its side (a command that failed), so its timeline, the event log
        and the other frontends all have it."""

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

    async def snapshot(self, tenant: str, name: str | None = None) -> str:
        """Snapshot the tenant's data (``devenv data snapshot``); returns the snapshot's name."""

    async def restore(self, tenant: str, name: str) -> None:
        """Replace the tenant's data with a snapshot (``devenv data restore``); ask the user first."""

    def data_label(self, tenant: str) -> str:
        """The snapshot the tenant's data came from ("" for its own data)."""

    def snapshots(self, tenant: str) -> list[str]:
        """The tenant's snapshot names, oldest first."""
