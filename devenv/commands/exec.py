"""``devenv exec [--tenant T] COMPONENT -- CMD...``: run a command in a running component.

Goes through the backend's ``exec`` (compose: the engine's exec API in the component's first
container; kind: ``kubectl exec`` on its deployment), prints the command's output and exits with
its exit code. One tenant: the one named, else the project's first default tenant (as ``diff``).
"""

from __future__ import annotations

import argparse
import sys

from devenv.commands._common import add_tenant_arg, load, pick_tenants
from devenv.errors import DevenvError


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("exec", help="run a command in a running component (devenv exec web -- ls /srv)",
                       description="Run CMD in COMPONENT's (first) container of one tenant and exit with its code.")
    add_tenant_arg(p, help="the tenant (default: the project's first default tenant)")
    p.add_argument("--backend", choices=["compose", "kind"], default="compose")
    p.add_argument("component", metavar="COMPONENT")
    p.add_argument("cmd", nargs=argparse.REMAINDER, metavar="-- CMD", help="the command and its arguments")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from devenv.backends import get_backend

    argv = list(args.cmd)
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        raise DevenvError("no command to run", f"e.g. devenv exec {args.component} -- sh -c 'ls /'")
    project = load()
    tenants = pick_tenants(project, args.tenant)
    if len(tenants) > 1 and args.tenant:
        raise DevenvError("devenv exec runs in one tenant at a time", "pass a single --tenant T")
    if not args.tenant:  # said on stderr, as render and diff do: stdout is the command's own output
        print(f"devenv: exec in tenant {tenants[0]} (pass --tenant to pick another)", file=sys.stderr)
    comps = project.app.components  # app components and backing services alike
    if args.component not in comps:
        raise DevenvError(f"unknown component '{args.component}'", f"known: {', '.join(comps)}")
    backend = get_backend(args.backend, project, None)
    backend.check()
    code, out = backend.exec(tenants[0], args.component, argv)
    sys.stdout.write(out)
    sys.stdout.flush()
    return code
