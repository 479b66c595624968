"""The interface every backend (compose, kind) implements.

A backend takes resolved ``TenantSpec``s plus the image references the builder produced and makes
them run; it reports through an ``emit`` callback of engine events and never prints. Teardown is
always scoped: one tenant, only objects carrying devenv's labels.

This ABC is the whole contract: every capability the engine and the commands use is an abstract
method here, and what a backend cannot do is a declared ``*_unsupported`` message (empty = it can)
that the user sees instead of a silent no-op. Nobody asks a backend its type or probes it with
``getattr``; ``tests/contract/test_backend_contract.py`` runs the same checks against both backends.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from devenv.events import Event
from devenv.model.types import Project, SyncFile, TenantSpec

__all__ = ["SHELL", "Backend", "ComponentStatus", "Emit", "LogSink", "Monitor", "SyncFile", "iso_epoch"]

Emit = Callable[[Event], None]
LogSink = Callable[[str, str, str], None]
"""``sink(tenant, component, line)``: where a monitor sends the log lines it follows."""


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


class Monitor(Protocol):
    """Follows the tenants' components while a session runs: emits each ``ComponentState`` change
    (crashes and restarts included) through the backend's ``emit`` and sends every line the
    components log to its sink. ``tenants`` may grow while it runs (a tenant brought up later)."""

    tenants: set[str]

    def start(self) -> None: ...

    def stop(self) -> None: ...


class Backend(ABC):
    name: str = ""
    #: Why this backend cannot delete its whole cluster (``down --cluster``), or "" when it can.
    cluster_unsupported: str = ""
    #: Why this backend cannot snapshot, restore or load tenant data, in the user's words ("" = it can;
    #: ``devenv.data`` then drives it). Declared here so commands never probe the backend's type.
    data_unsupported: str = ""
    #: True when ``up(wait=False)`` then ``wait_healthy`` is how this backend waits: the engine then
    #: applies the saves made meanwhile as soon as the containers run, before the health wait.
    waits_apart: bool = False

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

    def wait_healthy(self, spec: TenantSpec, components: list[str], timeout: float = 300) -> None:
        """With ``waits_apart``: return once every component is healthy, else raise with the
        failing one's log tail."""
        raise NotImplementedError(f"the {self.name} backend waits in up()")

    @abstractmethod
    def restart(self, tenant: str, component: str) -> None: ...

    @abstractmethod
    def sync(self, tenant: str, component: str, files: list[SyncFile]) -> int:
        """Copy/delete files in every running container of the component; return how many got them."""

    @abstractmethod
    def exec(self, tenant: str, component: str, argv: list[str]) -> tuple[int, str]:
        """Run a command in the component's (first) container; return exit code and output."""

    @abstractmethod
    def redeploy(self, spec: TenantSpec, images: dict[str, str], components: list[str], timeout: float = 300) -> None:
        """Replace only ``components`` of a running tenant with their new images; wait until healthy."""

    @abstractmethod
    def running_image(self, tenant: str, component: str) -> str:
        """The image reference the component runs, as the builder named it ("" when nothing runs):
        equal to today's content tag means the container holds exactly today's files."""

    @abstractmethod
    def image_created(self, tenant: str, component: str) -> float | None:
        """When the running component's image was built (epoch seconds), or None when nothing runs.
        The initial sync sends the files edited since then."""

    @abstractmethod
    def shell_argv(self, tenant: str, component: str) -> list[str]:
        """The interactive command that opens a shell in the component (bash where it has one);
        ``DevenvError`` with the fix when it is not running."""

    @abstractmethod
    def monitor(self, tenants: list[str], log_sink: LogSink) -> Monitor:
        """A (not yet started) ``Monitor`` of ``tenants``."""

    @abstractmethod
    def tenants_with_volumes(self) -> list[str]:
        """Tenants whose data outlived their containers (a plain ``down`` keeps it)."""

    def delete_cluster(self) -> None:
        """Delete the backend's whole cluster; only called when ``cluster_unsupported`` is empty."""
        raise NotImplementedError(self.cluster_unsupported)


def iso_epoch(text: str) -> float | None:
    """An engine's RFC 3339 time (``2026-12-01T23:18:53.123456789Z``) as epoch seconds."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")[:26] + "+00:00").timestamp()
    except ValueError:
        return None


SHELL = "command -v bash >/dev/null && exec bash || exec sh"
"""What ``shell_argv`` runs in the container: bash where the image has it, else sh."""
