"""``devenv restart COMPONENT``: restart a component's containers in the chosen tenants."""

from __future__ import annotations

import argparse

from devenv.commands._common import add_tenant_arg, load, split_names


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("restart", help="restart a component (in every running tenant, or --tenant)")
    p.add_argument("component")
    add_tenant_arg(p)
    p.add_argument("--backend", choices=["compose", "kind"], default="compose")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from devenv.backends import get_backend
    from devenv.errors import DevenvError

    project = load()
    if args.component not in project.app.components:
        raise DevenvError(f"unknown component '{args.component}'", f"known: {', '.join(project.app.components)}")
    backend = get_backend(args.backend, project, None)
    backend.check()
    tenants = split_names(args.tenant) or backend.running_tenants()
    if not tenants:
        raise DevenvError("no tenant is running", "start one with `devenv up`")
    for t in tenants:
        backend.restart(t, args.component)
        print(f"{t}/{args.component}: restarted")
    return 0
