"""``python -m tui.demo``: the TUI over a scripted engine, no Docker needed.

For screenshots, trying the keys, and the tmux test. The script plays a believable start (builds
with progress, one cached, tenants coming up), then keeps a trickle of logs and a periodic sync
flowing. Commands are accepted and answered with timeline entries.
"""

from __future__ import annotations

import asyncio
import itertools
import sys
from collections.abc import Callable

from devenv.engine.api import Subscriber
from devenv.engine.state import State, reduce
from devenv.events import (
    BuildFinished,
    BuildProgress,
    BuildStarted,
    ComponentState,
    EngineHealth,
    Event,
    LogLine,
    TenantState,
    Timeline,
    WatchStatus,
)

TENANTS = ("acme", "globex", "initech")
COMPONENTS = {"web": 18001, "api": 18002, "worker": None, "postgres": None}
IMAGES = {"web": "a41c9e2", "api": "a41c9e2", "worker": "77be013"}


class DemoEngine:
    """Implements ``EngineAPI`` with a script; ``speed`` scales every pause (0 = instant)."""

    def __init__(self, speed: float = 1.0) -> None:
        self.state = State(app="shop", backend="compose")
        self.tenants = list(TENANTS[:2])
        self.speed = speed
        self._subscribers: list[Subscriber] = []
        self._tasks: set[asyncio.Task[None]] = set()

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        self._subscribers.append(fn)
        return lambda: self._subscribers.remove(fn)

    def emit(self, ev: Event) -> None:
        self.state = reduce(self.state, ev)
        for fn in list(self._subscribers):
            fn(ev)

    async def _sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds * self.speed)

    async def start(self) -> None:
        self.emit(EngineHealth(ok=True))
        self.emit(WatchStatus(watching=True, files=1284))
        for t in TENANTS:
            self.emit(TenantState(tenant=t, state="building" if t in self.tenants else "stopped"))
            for c in COMPONENTS:
                self.emit(ComponentState(tenant=t, component=c, state="pending" if t in self.tenants else "stopped",
                                         image=f"devenv/shop-{c}:{IMAGES.get(c, '16')}"))
        await self._builds()
        for t in self.tenants:
            await self._up(t)
        task = asyncio.create_task(self._trickle())
        self._tasks.add(task)

    async def _builds(self) -> None:
        self.emit(BuildFinished(image="devenv/shop-worker", tag=IMAGES["worker"], status="cached"))
        for image in ("web", "api"):
            self.emit(BuildStarted(image=f"devenv/shop-{image}", tag=IMAGES[image], reason="no image with this tag"))
            for step in range(1, 8):
                self.emit(BuildProgress(image=f"devenv/shop-{image}", step=step, total=7, cached=step < 3))
                await self._sleep(0.3)
            self.emit(BuildFinished(image=f"devenv/shop-{image}", tag=IMAGES[image], status="built", seconds=2.1))
        self.emit(Timeline(kind="build", message="built web, api; worker cached", cost_ms=4200))

    async def _up(self, tenant: str) -> None:
        self.emit(TenantState(tenant=tenant, state="starting"))
        for c, port in COMPONENTS.items():
            await self._sleep(0.2)
            self.emit(ComponentState(tenant=tenant, component=c, state="healthy", health="healthy",
                                     url=f"http://127.0.0.1:{port + 100 * TENANTS.index(tenant)}/" if port else ""))
        self.emit(TenantState(tenant=tenant, state="up"))
        self.emit(Timeline(kind="up", message=f"{len(COMPONENTS)}/{len(COMPONENTS)} healthy", tenants=(tenant,),
                           cost_ms=1800))

    async def _trickle(self) -> None:
        for i in itertools.count():
            tenant = self.tenants[i % len(self.tenants)]
            comp = ("web", "api", "worker")[i % 3]
            self.emit(LogLine(tenant=tenant, component=comp, line=f"GET /orders/{i} 200 {3 + i % 9} ms"))
            if i % 40 == 39:
                self.emit(Timeline(kind="sync", message="synced templates/index.html by rule templates/**",
                                   component="web", tenants=tuple(self.tenants), cost_ms=38,
                                   detail=("templates/index.html",)))
            await self._sleep(0.25)

    async def stop(self, leave_running: bool = True) -> None:
        for task in self._tasks:
            task.cancel()
        if not leave_running:
            for t in self.tenants:
                self.emit(TenantState(tenant=t, state="stopped"))

    async def up(self, tenants: list[str]) -> None:
        for t in tenants:
            if t not in self.tenants:
                self.tenants.append(t)
            await self._up(t)

    async def down(self, tenant: str, volumes: bool = False) -> None:
        for c in COMPONENTS:
            self.emit(ComponentState(tenant=tenant, component=c, state="stopped"))
        self.emit(TenantState(tenant=tenant, state="stopped"))
        self.emit(Timeline(kind="down", message="stopped (volumes kept)", tenants=(tenant,)))

    async def rebuild(self, component: str | None = None) -> None:
        await self._sleep(0.5)
        self.emit(Timeline(kind="rebuild", message=f"rebuilt {component or 'all images'} (asked from the TUI)",
                           component=component or "", cost_ms=500))

    async def restart(self, tenant: str, component: str) -> None:
        await self._sleep(0.3)
        self.emit(Timeline(kind="restart", message="restarted (asked from the TUI)", component=component,
                           tenants=(tenant,), cost_ms=340))

    def shell_argv(self, tenant: str, component: str) -> list[str]:
        return ["sh", "-c", f"echo 'demo shell for {tenant}/{component}; exit to return'; exec sh"]

    def url(self, tenant: str, component: str) -> str | None:
        view = self.state.components.get((tenant, component))
        return view.url if view and view.url else None


def main(argv: list[str] | None = None) -> int:
    from tui import run_tui

    args = sys.argv[1:] if argv is None else argv
    speed = float(args[0]) if args else 1.0
    return run_tui(DemoEngine(speed=speed))


if __name__ == "__main__":
    sys.exit(main())
