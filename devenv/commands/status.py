"""``devenv status``: one record per tenant component; ``--json`` for scripts."""

from __future__ import annotations

import argparse
import dataclasses

from devenv.commands._common import add_tenant_arg, load, print_json, split_names


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("status", help="state, health, image and URL of every running component")
    add_tenant_arg(p)
    p.add_argument("--json", action="store_true", help="print only JSON on stdout")
    p.add_argument("--backend", choices=["compose", "kind"], default="compose")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from devenv.backends import get_backend

    project = load(quiet=args.json)
    backend = get_backend(args.backend, project, None)
    backend.check()
    rows = backend.status(split_names(args.tenant) or None)
    if args.json:
        print_json([dataclasses.asdict(r) for r in rows])
        return 0
    if not rows:
        print("no tenant is running; start one with `devenv up`")
        return 0
    cols = ("tenant", "component", "state", "health", "url", "image")
    table = [cols] + [tuple(str(getattr(r, c)) for c in cols) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    for row in table:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return 0
