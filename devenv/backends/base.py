"""The interface every backend (compose, kind) implements.

A backend takes resolved ``TenantSpec``s plus the image references the builder produced and makes
them run; it reports through an ``emit`` callback of engine events and never prints. Teardown is
always scoped: one tenant, only objects carrying devenv's labels.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from devenv.events import Event
from devenv.model.types import Project, TenantSpec

Emit = Callable[[Event], None]


@dataclass(frozen=True)
class ComponentStatus:
    """One row of ``devenv status``."""

    tenant: str
    component: str
    state: str  # running, exited, restarting, created, missing, ...
    health: str  # healthy, unhealthy, starting, none
    image: str
    url: str = ""
    containers: int = 0
    ports: str = ""
    synced: str = ""  # set when the container runs files a live update synced (engine.live)


@dataclass(frozen=True)
class SyncFile:
    """A file to copy into ``dest`` (absolute, in the container) from ``src`` on the host, or to
    delete there when ``src`` is None."""

    src: Path | None
    dest: str


class Backend(ABC):
    name: str = ""
    #: Why this backend cannot snapshot, restore or load tenant data, in the user's words ("" = it can;
    #: ``devenv.data`` then drives it). Declared here so commands never probe the backend's type.
    data_unsupported: str = ""

    def __init__(self, project: Project, emit: Emit | None = None) -> None:
        self.project = project
        self.emit: Emit = emit or (lambda e: None)

    @abstractmethod
    def check(self) -> None:
        """Raise ``ToolMissing``/``EngineError`` (with the fix) before anything starts."""

    @abstractmethod
    def up(self, spec: TenantSpec, images: dict[str, str], wait: bool = True, timeout: float = 300) -> None:
        """Create or update the tenant; with ``wait``, return once every component is healthy."""

    @abstractmethod
    def down(self, tenant: str, volumes: bool = False) -> None:
        """Remove the tenant's containers and networks (and volumes only when asked)."""

    @abstractmethod
    def status(self, tenants: list[str] | None = None) -> list[ComponentStatus]:
        """Every component of the given (default: every running) tenant."""

    @abstractmethod
    def running_tenants(self) -> list[str]:
        """Tenants of this project that have anything running on this backend."""

    @abstractmethod
    def logs(self, tenant: str, components: list[str], follow: bool, tail: int, sink: Callable[[str, str], None]) -> None:
        """Stream log lines as ``sink(component, line)`` until done (or interrupted, with ``follow``)."""

    @abstractmethod
    def restart(self, tenant: str, component: str) -> None: ...

    @abstractmethod
    def sync(self, tenant: str, component: str, files: list[SyncFile]) -> int:
        """Copy/delete files in every running container of the component; return how many got them."""

    @abstractmethod
    def exec(self, tenant: str, component: str, argv: list[str]) -> tuple[int, str]:
        """Run a command in the component's (first) container; return exit code and output."""
