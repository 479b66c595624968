"""What the engine tells its subscribers (the CLI printer, the TUI, tests).

Every event is a small frozen dataclass with a timestamp. Subscribers never call back into the
engine from these; they send commands instead (see ``engine/commands.py``). ``to_json`` gives the
machine-readable form used by ``--json`` outputs.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ComponentStateName = Literal[
    "pending", "building", "starting", "running", "healthy", "unhealthy", "crashed", "stopped", "synced"
]
TimelineKind = Literal["sync", "rebuild", "restart", "redeploy", "build", "up", "down", "fail", "info", "warn"]


@dataclass(frozen=True)
class Event:
    ts: float = field(default_factory=time.time, kw_only=True)

    @property
    def type(self) -> str:
        return type(self).__name__

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, **asdict(self)}


@dataclass(frozen=True)
class BuildStarted(Event):
    image: str
    tag: str
    reason: str = ""  # why this build runs: "no image with this tag", "base changed", ...


@dataclass(frozen=True)
class BuildProgress(Event):
    image: str
    step: int
    total: int
    line: str = ""
    cached: bool = False


@dataclass(frozen=True)
class BuildFinished(Event):
    image: str
    tag: str
    status: Literal["built", "cached", "failed", "cancelled"]
    seconds: float = 0.0
    error: str = ""
    log_tail: tuple[str, ...] = ()


@dataclass(frozen=True)
class BuildWaiting(Event):
    """The planner holds ``image`` back, and says why (e.g. "waiting for base")."""

    image: str
    reason: str


@dataclass(frozen=True)
class ImagesKnown(Event):
    """The references built images run as now (``image -> content-tagged ref``): just built, or
    found already built. The reducer's state holds them, so every frontend reads the same."""

    images: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class PendingChanges(Event):
    """The saves ``tenant`` holds while it builds, starts or waits for health (applied once it is
    up): ``changes`` are ``(path, kind)`` pairs, the path project-relative (absolute outside the
    project) and the kind the watcher's word (``modified``, ``deleted`` ...). ``held=False`` once
    the tenant stopped holding (they were applied, or it failed to start)."""

    tenant: str
    changes: tuple[tuple[str, str], ...] = ()
    held: bool = True

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(path for path, _kind in self.changes)


@dataclass(frozen=True)
class ComponentState(Event):
    tenant: str
    component: str
    state: ComponentStateName
    health: str = ""  # "healthy", "unhealthy", "starting", "" when the component has no check
    image: str = ""
    url: str = ""
    detail: str = ""


@dataclass(frozen=True)
class TenantState(Event):
    tenant: str
    state: Literal["stopped", "building", "starting", "up", "degraded", "stopping"]
    detail: str = ""


@dataclass(frozen=True)
class LogLine(Event):
    tenant: str
    component: str
    line: str


@dataclass(frozen=True)
class Timeline(Event):
    """A line of the "why" timeline: every sync, rebuild, restart and failure with cause and cost."""

    kind: TimelineKind
    message: str
    component: str = ""
    tenants: tuple[str, ...] = ()
    cost_ms: float | None = None
    detail: tuple[str, ...] = ()  # full log tail or file list, shown on demand
    files: tuple[str, ...] = ()  # the project-relative files the action was about (a sync's files)

    def text(self) -> str:
        """The plain sentence: ``web (acme, globex): synced 2 file(s) ... in 41 ms``. ``message``
        holds only the description; who and what it cost are fields, so each UI lays them out."""
        who = self.component + (f" ({', '.join(self.tenants)})" if self.tenants else "")
        cost = "" if self.cost_ms is None else (
            f" in {self.cost_ms:,.0f} ms" if self.cost_ms < 10_000 else f" in {self.cost_ms / 1000:,.1f} s")
        return f"{who.strip()}: {self.message}{cost}" if who.strip() else f"{self.message}{cost}"


@dataclass(frozen=True)
class EngineHealth(Event):
    ok: bool
    detail: str = ""


@dataclass(frozen=True)
class WatchStatus(Event):
    watching: bool
    files: int = 0
    detail: str = ""
