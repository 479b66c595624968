"""One session entry point for every frontend: ``up`` (plain or the TUI), ``watch``, and the data
commands' first start all open the engine here.

The command loads the project once and hands it over; the session builds the backend and the
engine, and gives the engine the project lock, which ``Engine.start`` holds while it builds and
deploys whatever frontend shows it (the TUI path of ``up`` took no lock before). A frontend only
chooses how to show the engine's events.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from devenv.backends import get_backend
from devenv.backends.base import Backend
from devenv.engine.core import Engine
from devenv.errors import DevenvError
from devenv.lock import project_lock
from devenv.model.types import Project, TenantSpec


def open_session(project: Project, tenants: list[str] | None, *, backend: str, what: str, watch: bool = True,
                 timeout: float = 300, specs: dict[str, TenantSpec] | None = None, follow: bool = True,
                 **backend_options: Any) -> Engine:
    """The engine of one session on ``project`` (loaded once, by the caller). ``tenants=None``:
    the tenants of this project the backend runs now (``devenv watch``). ``follow=False`` (``up
    --detach``): no monitor, since the session ends once every tenant is healthy."""
    be = get_backend(backend, project, None, **backend_options)
    if tenants is None:
        tenants = _running(project, be)
    engine = Engine(project, tenants, be, watch=watch, specs=specs, timeout=timeout, follow=follow)
    engine.lock = partial(project_lock, project.app.root, f"{what} {','.join(tenants)}".strip())
    return engine


def _running(project: Project, backend: Backend) -> list[str]:
    backend.check()
    tenants = [t for t in backend.running_tenants() if t in project.profiles]
    if not tenants:
        raise DevenvError("no tenant of this project is running", "start them with `devenv up`")
    return tenants


def backend_options(args: Any) -> dict[str, Any]:
    """The backend's own command-line options (compose: --expose; kind: --context)."""
    if getattr(args, "backend", "compose") == "compose":
        return {"expose": bool(getattr(args, "expose", False))}
    return {"context": getattr(args, "context", None)}
