"""``devenv logs``: aggregated, prefixed logs of a tenant's components (coloured on a terminal)."""

from __future__ import annotations

import argparse
import sys

from devenv.commands._common import add_tenant_arg, load, pick_tenants
from devenv.errors import DevenvError
from devenv.model.types import Project


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("logs", help="aggregated logs of a tenant's components")
    add_tenant_arg(p)
    p.add_argument("components", nargs="*", metavar="COMPONENT")
    p.add_argument("-f", "--follow", action="store_true")
    p.add_argument("--tail", type=int, default=200, help="lines per container to start from (default 200)")
    p.add_argument("--backend", choices=["compose", "kind"], default="compose")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import threading

    from devenv.backends import get_backend
    from devenv.commands._printer import Printer
    from devenv.events import LogLine
    from devenv.model.resolve import resolve
    from devenv.secrets import Masker, merge_values, stored_secret_values

    project = load()
    tenants = pick_tenants(project, args.tenant, default_all=False)
    check_components(project, args.components)
    backend = get_backend(args.backend, project, None)
    backend.check()
    # Reading logs masks the values already known; it never generates (writes) new ones.
    values = [v for t in tenants
              for keys in merge_values(resolve(project, t), stored_secret_values(project.app.root, t)).values()
              for v in keys.values()]
    masker = Masker(values)
    printer = Printer(out=sys.stdout)
    lock = threading.Lock()

    def sink_for(tenant: str):  # type: ignore[no-untyped-def]
        def sink(comp: str, line: str) -> None:
            with lock:
                printer(LogLine(tenant=tenant, component=comp, line=masker.mask(line)))
        return sink

    threads = [threading.Thread(target=backend.logs, args=(t, args.components, args.follow, args.tail, sink_for(t)),
                                daemon=True) for t in tenants]
    for t in threads:
        t.start()
    for t in threads:
        while t.is_alive():
            t.join(0.5)
    return 0


def check_components(project: Project, names: list[str]) -> None:
    """A misspelt component is an error, not an empty log that looks like a silent container."""
    known = list(project.app.components)
    unknown = [n for n in names if n not in project.app.components]
    if unknown:
        raise DevenvError(f"unknown component(s): {', '.join(unknown)}", f"known: {', '.join(known)}")
