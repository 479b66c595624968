"""The engine's state and its reducer: the one store (as tilt's store is).

``reduce(state, event) -> state`` is pure: the CLI printer, the TUI, ``devenv status`` and the tests
all see the same picture by folding the same events. Every fact the engine acts on lives here:
tenants and components, builds, the images each component runs (``images``), the tenants' resolved
specs (``specs``), the saves waiting for a tenant that is still starting (``pending``) and the
timeline. The engine changes it only by emitting events (``SpecsKnown`` below is the engine's own
action: a spec is a model value, so it sits at the engine's level, not in ``devenv.events``). Log
lines are not kept here (they are hot and unbounded); the subscribers that show logs keep their own
bounded buffers.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from devenv.events import (
    BuildFinished,
    BuildProgress,
    BuildStarted,
    BuildWaiting,
    ComponentState,
    EngineHealth,
    Event,
    ImagesKnown,
    PendingChanges,
    TenantState,
    Timeline,
    WatchStatus,
)

if TYPE_CHECKING:
    from devenv.backends.base import ComponentStatus
    from devenv.model.types import TenantSpec

TIMELINE_MAX = 500


@dataclass(frozen=True)
class BuildView:
    image: str
    tag: str = ""
    status: str = "waiting"  # waiting, building, built, cached, failed, cancelled
    step: int = 0
    total: int = 0
    reason: str = ""
    seconds: float = 0.0
    error: str = ""
    log_tail: tuple[str, ...] = ()
    cached_steps: int = 0


@dataclass(frozen=True)
class ComponentView:
    tenant: str
    component: str
    state: str = "pending"
    health: str = ""
    image: str = ""
    url: str = ""
    detail: str = ""


@dataclass(frozen=True)
class TenantView:
    name: str
    state: str = "stopped"
    detail: str = ""
    components: tuple[str, ...] = ()


@dataclass(frozen=True)
class State:
    app: str = ""
    backend: str = "compose"
    tenants: dict[str, TenantView] = field(default_factory=dict)
    components: dict[tuple[str, str], ComponentView] = field(default_factory=dict)
    builds: dict[str, BuildView] = field(default_factory=dict)
    timeline: tuple[Timeline, ...] = ()
    engine_ok: bool = True
    engine_detail: str = ""
    watching: bool = False
    watched_files: int = 0
    images: dict[str, str] = field(default_factory=dict)  # image -> the ref it runs as now
    specs: dict[str, TenantSpec] = field(default_factory=dict)  # tenant -> its resolved spec
    # tenant still starting -> the saves it holds, (path, kind); a tenant not here acts on saves at once
    pending: dict[str, tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def tenant_components(self, tenant: str) -> list[ComponentView]:
        t = self.tenants.get(tenant)
        names = t.components if t else ()
        return [self.components[(tenant, c)] for c in names if (tenant, c) in self.components]

    def pending_files(self, tenant: str) -> tuple[str, ...]:
        """The files of the saves ``tenant`` holds (empty when it holds none)."""
        return tuple(path for path, _kind in self.pending.get(tenant, ()))

    def ready_count(self, tenant: str) -> tuple[int, int]:
        comps = self.tenant_components(tenant)
        return sum(1 for c in comps if c.state in ("healthy", "running", "synced")), len(comps)


@dataclass(frozen=True)
class SpecsKnown(Event):
    """The engine's action: these tenants' specs, resolved (a session's tenants, or one started
    later). Their secret values never leave the process: ``to_json`` names the workloads only."""

    specs: tuple[tuple[str, TenantSpec], ...]

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "ts": self.ts,
                "specs": {name: list(spec.workloads) for name, spec in self.specs}}


def _build(state: State, image: str) -> BuildView:
    return state.builds.get(image) or BuildView(image)


def _reduce_build(state: State, ev: Event) -> State:
    if isinstance(ev, BuildWaiting):
        b = replace(_build(state, ev.image), status="waiting", reason=ev.reason)
    elif isinstance(ev, BuildStarted):
        b = BuildView(ev.image, tag=ev.tag, status="building", reason=ev.reason)
    elif isinstance(ev, BuildProgress):
        old = _build(state, ev.image)
        b = replace(old, status="building", step=ev.step, total=ev.total,
                    cached_steps=old.cached_steps + (1 if ev.cached else 0))
    elif isinstance(ev, BuildFinished):
        b = replace(_build(state, ev.image), tag=ev.tag or _build(state, ev.image).tag, status=ev.status,
                    seconds=ev.seconds, error=ev.error, log_tail=ev.log_tail)
    else:
        return state
    return replace(state, builds={**state.builds, b.image: b})


def failure_entry(ev: ComponentState) -> Timeline | None:
    """The timeline's line for a component that crashed or turned unhealthy (None otherwise): the
    store shows it, and the event log keeps it, so a later session's history says the same."""
    if ev.state not in ("crashed", "unhealthy"):
        return None
    return Timeline(kind="fail", message=f"{ev.state}{': ' + ev.detail if ev.detail else ''}", component=ev.component,
                    tenants=(ev.tenant,), ts=ev.ts)


def _reduce_component(state: State, ev: ComponentState) -> State:
    key = (ev.tenant, ev.component)
    old = state.components.get(key) or ComponentView(ev.tenant, ev.component)
    # a component that stopped or crashed has no health left (its last check is not what runs now)
    new = replace(old, state=ev.state, health=ev.health or old.health if ev.state not in ("stopped", "crashed") else "",
                  image=ev.image or old.image, url=ev.url or old.url, detail=ev.detail)
    tenants = state.tenants
    t = tenants.get(ev.tenant) or TenantView(ev.tenant)
    if ev.component not in t.components:
        tenants = {**tenants, ev.tenant: replace(t, components=(*t.components, ev.component))}
    failure = failure_entry(ev)
    timeline = state.timeline if failure is None else (*state.timeline, failure)[-TIMELINE_MAX:]
    return replace(state, components={**state.components, key: new}, tenants=tenants, timeline=timeline)


def _reduce_tenant(state: State, ev: TenantState) -> State:
    t = state.tenants.get(ev.tenant) or TenantView(ev.tenant)
    return replace(state, tenants={**state.tenants, ev.tenant: replace(t, state=ev.state, detail=ev.detail)})


def reduce(state: State, ev: Event) -> State:
    """The state after ``ev``. Unknown events leave it unchanged."""
    if isinstance(ev, BuildWaiting | BuildStarted | BuildProgress | BuildFinished):
        return _reduce_build(state, ev)
    if isinstance(ev, ComponentState):
        return _reduce_component(state, ev)
    if isinstance(ev, TenantState):
        return _reduce_tenant(state, ev)
    if isinstance(ev, Timeline):
        return replace(state, timeline=(*state.timeline, ev)[-TIMELINE_MAX:])
    if isinstance(ev, EngineHealth):
        return replace(state, engine_ok=ev.ok, engine_detail=ev.detail)
    if isinstance(ev, WatchStatus):
        return replace(state, watching=ev.watching, watched_files=ev.files or state.watched_files)
    if isinstance(ev, ImagesKnown):
        return replace(state, images={**state.images, **dict(ev.images)})
    if isinstance(ev, PendingChanges):
        return _reduce_pending(state, ev)
    if isinstance(ev, SpecsKnown):
        return replace(state, specs={**state.specs, **dict(ev.specs)})
    return state


def _reduce_pending(state: State, ev: PendingChanges) -> State:
    pending = {k: v for k, v in state.pending.items() if k != ev.tenant}
    if ev.held:
        pending[ev.tenant] = ev.changes
    return replace(state, pending=pending)


def fold(events: Iterable[Event], state: State | None = None) -> State:
    s = state or State()
    for ev in events:
        s = reduce(s, ev)
    return s


# -- the backend's rows, as events -------------------------------------

COMPONENT_WORDS = ("pending", "building", "starting", "running", "healthy", "unhealthy", "crashed", "stopped")


def component_word(state: str) -> Any:
    """A backend status word as a component state (``exited``, ``missing`` and friends read "stopped")."""
    return state if state in COMPONENT_WORDS else "stopped"


def observed(rows: Iterable[ComponentStatus]) -> list[Event]:
    """The events a backend's status rows (the records ``devenv status`` prints) stand for: how the
    engine announces what runs when a session starts."""
    return [ComponentState(tenant=r.tenant, component=r.component, state=component_word(r.state),
                           health="" if r.health == "none" else r.health, image=r.image, url=r.url) for r in rows]

