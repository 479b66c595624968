"""A scripted stand-in for the engine: replays recorded events and records every command.

Timestamps are fixed (T0 + offsets) so snapshots never depend on when or where they run.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from datetime import UTC

from devenv.engine.api import Subscriber
from devenv.engine.state import State, reduce
from devenv.events import (
    BuildFinished,
    BuildProgress,
    BuildStarted,
    BuildWaiting,
    ComponentState,
    EngineHealth,
    Event,
    LogLine,
    TenantState,
    Timeline,
    WatchStatus,
)

T0 = 1_700_000_000.0  # 2023-11-14 22:13:20 UTC
TZ = UTC
COMPONENTS = ("web", "api", "worker", "postgres")
BUILT = ("web", "api", "worker")
PORTS = {"acme": {"web": 18001, "api": 18002}, "globex": {"web": 18101, "api": 18102}}
TAGS = {"web": "a41c9e2f00", "api": "a41c9e2f00", "worker": "77be013aa1"}


def image(component: str) -> str:
    return f"devenv/shop-{component}:{TAGS[component]}" if component in TAGS else f"{component}:16"


def url(tenant: str, component: str) -> str:
    port = PORTS.get(tenant, {}).get(component)
    return f"http://127.0.0.1:{port}/" if port else ""


def at(seconds: float) -> float:
    return T0 + seconds


def starting_events() -> list[Event]:
    """Builds in progress: web halfway, api waiting for base, worker cached."""
    evs: list[Event] = [EngineHealth(ok=True, ts=at(0)), WatchStatus(watching=True, files=1284, ts=at(0))]
    for t in ("acme", "globex"):
        evs.append(TenantState(tenant=t, state="building", ts=at(0)))
        evs += [ComponentState(tenant=t, component=c, state="pending", image=image(c), ts=at(0)) for c in COMPONENTS]
    evs += [
        BuildStarted(image="devenv/shop-web", tag=TAGS["web"], reason="no image with this tag", ts=at(1)),
        BuildProgress(image="devenv/shop-web", step=3, total=7, cached=True, ts=at(2)),
        BuildWaiting(image="devenv/shop-api", reason="waiting for base", ts=at(2)),
        BuildFinished(image="devenv/shop-worker", tag=TAGS["worker"], status="cached", ts=at(2)),
        Timeline(kind="build", message="building web: no image with this tag", component="web", ts=at(1)),
    ]
    return evs


def healthy_events() -> list[Event]:
    evs = starting_events()
    evs += [
        BuildFinished(image="devenv/shop-web", tag=TAGS["web"], status="built", seconds=4.2, ts=at(5)),
        BuildFinished(image="devenv/shop-api", tag=TAGS["api"], status="built", seconds=3.1, ts=at(6)),
        Timeline(kind="build", message="built web, api; worker cached", cost_ms=5230, ts=at(6)),
    ]
    for t in ("acme", "globex"):
        evs += [ComponentState(tenant=t, component=c, state="healthy", health="healthy", image=image(c),
                               url=url(t, c), ts=at(8)) for c in COMPONENTS]
        evs.append(TenantState(tenant=t, state="up", ts=at(8)))
    evs += [
        Timeline(kind="up", message="4/4 healthy", tenants=("acme", "globex"), cost_ms=8120, ts=at(8)),
        Timeline(kind="sync", message="synced templates/index.html by rule templates/**", component="web",
                 tenants=("acme", "globex"), cost_ms=38, detail=("templates/index.html",), ts=at(12)),
    ]
    evs += demo_logs()
    return evs


def failed_build_events() -> list[Event]:
    evs = healthy_events()
    tail = ("Step 9/12 : RUN pip install -r requirements.txt", "Collecting flask==9.9",
            "ERROR: No matching distribution found for flask==9.9", "The command returned a non-zero code: 1")
    evs += [
        BuildStarted(image="devenv/shop-api", tag="ffee001122", reason="requirements.txt changed", ts=at(20)),
        BuildFinished(image="devenv/shop-api", tag="ffee001122", status="failed", seconds=2.5,
                      error="Dockerfile:9 RUN pip install", log_tail=tail, ts=at(23)),
        Timeline(kind="fail", message="build failed: Dockerfile:9 RUN pip install -r requirements.txt",
                 component="api", tenants=("globex",), cost_ms=2500, detail=tail, ts=at(23)),
    ]
    return evs


def demo_logs() -> list[Event]:
    lines = [("acme", "web", "GET / 200 3 ms"), ("acme", "api", "enqueued job 812 (export)"),
             ("acme", "worker", "job 812 done in 140 ms"), ("globex", "web", "GET /orders 200 11 ms"),
             ("acme", "web", "GET /orders error 500 in 12 ms"), ("globex", "api", "token=*** accepted")]
    return [LogLine(tenant=t, component=c, line=text, ts=at(9 + i)) for i, (t, c, text) in enumerate(lines)]


def burst(n: int, tenant: str = "acme", component: str = "web", start: float = 30.0) -> list[LogLine]:
    return [LogLine(tenant=tenant, component=component, line=f"burst line {i}", ts=at(start)) for i in range(n)]


class FakeEngine:
    """Implements ``EngineAPI``; ``start()`` replays ``script``. ``hang`` names commands that wait
    until ``release()`` (to see "engine slow"); ``fail`` maps command names to exceptions."""

    def __init__(self, script: Iterable[Event] = (), tenants: Iterable[str] = ("acme", "globex")) -> None:
        self.state = State(app="shop", backend="compose")
        self.tenants = list(tenants)
        self.script = list(script)
        self.calls: list[tuple[object, ...]] = []
        self.hang: set[str] = set()
        self.fail: dict[str, Exception] = {}
        self._subscribers: list[Subscriber] = []
        self._released = asyncio.Event()
        self.snapshot_names: dict[str, list[str]] = {}
        self.on_snapshot: dict[str, str] = {}

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        self._subscribers.append(fn)
        return lambda: self._subscribers.remove(fn)

    def emit(self, *events: Event) -> None:
        for ev in events:
            self.state = reduce(self.state, ev)
            for fn in list(self._subscribers):
                fn(ev)

    def release(self) -> None:
        self._released.set()

    async def _record(self, name: str, *args: object) -> None:
        self.calls.append((name, *args))
        if name in self.fail:
            raise self.fail[name]
        if name in self.hang:
            await self._released.wait()

    async def start(self) -> None:
        await self._record("start")
        self.emit(*self.script)

    async def stop(self, leave_running: bool = True) -> None:
        await self._record("stop", leave_running)

    async def up(self, tenants: list[str]) -> None:
        await self._record("up", list(tenants))

    async def down(self, tenant: str, volumes: bool = False) -> None:
        await self._record("down", tenant, volumes)

    async def rebuild(self, component: str | None = None) -> None:
        await self._record("rebuild", component)

    async def restart(self, tenant: str, component: str) -> None:
        await self._record("restart", tenant, component)

    async def snapshot(self, tenant: str, name: str | None = None) -> str:
        await self._record("snapshot", tenant, name)
        name = name or f"snap-{len(self.snapshot_names.setdefault(tenant, [])) + 1}"
        self.snapshot_names.setdefault(tenant, []).append(name)
        return name

    async def restore(self, tenant: str, name: str) -> None:
        await self._record("restore", tenant, name)
        self.on_snapshot[tenant] = name

    def data_label(self, tenant: str) -> str:
        return self.on_snapshot.get(tenant, "")

    def snapshots(self, tenant: str) -> list[str]:
        return list(self.snapshot_names.get(tenant, []))

    def shell_argv(self, tenant: str, component: str) -> list[str]:
        self.calls.append(("shell_argv", tenant, component))
        return ["docker", "exec", "-it", f"devenv-{tenant}-{component}-1", "sh"]

    def url(self, tenant: str, component: str) -> str | None:
        return url(tenant, component) or None
