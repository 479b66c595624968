"""Backends run resolved tenants: ``compose`` (the default) or ``kind``.

``get_backend`` is the one place a name becomes a backend; each backend is imported only when
chosen, so ``devenv up`` on compose never needs kind's code paths and vice versa.
"""

from __future__ import annotations

from typing import Any

from devenv.backends.base import Backend, Emit
from devenv.errors import DevenvError
from devenv.model.types import Project

BACKENDS = ("compose", "kind")


def get_backend(name: str, project: Project, emit: Emit | None = None, **kw: Any) -> Backend:
    """The backend called ``name``; extra keywords go to its constructor (``runner``, and for kind
    ``context`` and ``cluster_name``). Call ``check()`` on it before starting anything."""
    if name == "kind":
        from devenv.backends.kind import KindBackend

        return KindBackend(project, emit, **kw)
    if name == "compose":
        from devenv.backends.compose import ComposeBackend  # type: ignore[import-not-found,unused-ignore]

        return ComposeBackend(project, emit, **kw)  # type: ignore[no-any-return,unused-ignore]
    raise DevenvError(f"unknown backend '{name}'", f"choose one of: {', '.join(BACKENDS)}")


__all__ = ["BACKENDS", "Backend", "get_backend"]
