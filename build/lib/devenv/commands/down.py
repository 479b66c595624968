"""``devenv down``: stop tenants; only the named ones, only what devenv labelled, volumes kept."""

from __future__ import annotations

import argparse
import sys

from devenv.commands._common import add_tenant_arg, load, split_names
from devenv.errors import DevenvError


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("down", help="stop tenants (all of devenv's when none is named); data is kept")
    add_tenant_arg(p)
    p.add_argument("--volumes", action="store_true", help="also delete the tenants' data volumes")
    p.add_argument("--backend", choices=["compose", "kind"], default="compose")
    p.add_argument("--cluster", action="store_true", help="kind: also delete devenv's kind cluster")
    p.add_argument("--context", help="kind: a kube context other than devenv's own (explicit opt-in)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from devenv.backends import get_backend

    project = load()
    kw = {} if args.backend == "compose" else {"context": args.context}
    backend = get_backend(args.backend, project, None, **kw)
    backend.check()
    named = split_names(args.tenant)
    running = backend.running_tenants()
    if named:
        unknown = [t for t in named if t not in project.profiles and t not in running]
        if unknown:
            raise DevenvError(f"unknown tenant(s): {', '.join(unknown)}", f"known: {', '.join(project.profiles)}")
        tenants = named
    else:
        tenants = running
        if args.volumes:  # `down` then `down --volumes`: the kept volumes have no container left
            kept = backend.tenants_with_volumes()
            tenants = sorted(set(running) | set(kept))
        print(f"devenv: stopping every running tenant of {project.app.name}: {', '.join(tenants) or '(none)'}",
              file=sys.stderr)
    for t in tenants:
        backend.down(t, volumes=args.volumes)
        print(f"{t}: down{' (volumes deleted)' if args.volumes else ' (data volumes kept)'}")
    if args.cluster and not backend.cluster_unsupported:
        backend.delete_cluster()
    return 0
