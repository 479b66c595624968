"""``devenv watch``: watch the sources of already-running tenants and sync or rebuild on save."""

from __future__ import annotations

import argparse
import asyncio
import sys

from devenv.commands._common import add_tenant_arg, load, split_names
from devenv.errors import DevenvError


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("watch", help="watch running tenants: sync or rebuild on every save")
    add_tenant_arg(p)
    p.add_argument("--backend", choices=["compose", "kind"], default="compose")
    p.set_defaults(run=run, timeout=300, expose=False, context=None)


def run(args: argparse.Namespace) -> int:
    from devenv.backends import get_backend
    from devenv.commands._printer import Printer
    from devenv.engine.core import Engine

    project = load()
    backend = get_backend(args.backend, project, None)
    backend.check()
    tenants = split_names(args.tenant) or backend.running_tenants()
    tenants = [t for t in tenants if t in project.profiles]
    if not tenants:
        raise DevenvError("no tenant of this project is running", "start them with `devenv up`")
    engine = Engine(project, tenants, backend, watch=True)
    engine.subscribe(Printer())
    return asyncio.run(_watch(engine))


async def _watch(engine) -> int:  # type: ignore[no-untyped-def]
    await engine.start(up=False)
    print(f"devenv: watching {', '.join(engine.tenants)}; Ctrl+C to stop", file=sys.stderr)
    try:
        await asyncio.Event().wait()
    finally:
        await engine.stop(leave_running=True)
    return 0
