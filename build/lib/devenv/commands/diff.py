"""``devenv diff``: what the local run of a tenant changes from production, and why.

Compares production's own view of the tenant (``resolve(..., "prod")``) with what ``up`` would run
(plain local, or ``--as-prod [--dev C]``) field by field (component set, images, replicas,
resources, env, secrets, domains, placement) and prints each difference with the reason devenv
recorded for it. A difference without a recorded reason is printed as unexplained, never hidden.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import asdict, replace

from devenv.commands._common import add_tenant_arg, load, pick_tenants, print_json, split_names
from devenv.errors import DevenvError
from devenv.model.asprod import BACKENDS, backend_differences, compare, resolve_as_prod
from devenv.model.resolve import resolve
from devenv.model.types import Difference, Project, TenantSpec

_DIGEST = re.compile(r"@sha256:([0-9a-f]{12})[0-9a-f]{52}")
HEADERS = ("COMPONENT", "FIELD", "PRODUCTION", "LOCAL", "REASON")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("diff", help="what the local run of a tenant changes from production, with reasons")
    add_tenant_arg(p, help="the tenant to compare (default: the project's first default tenant)")
    p.add_argument("--as-prod", action="store_true", help="compare the production-faithful run (`up --as-prod`)")
    p.add_argument("--dev", action="append", metavar="COMPONENT",
                   help="with --as-prod: components built from source (comma-separated or repeated)")
    p.add_argument("--backend", choices=BACKENDS, default="compose", help="the backend the run would use")
    p.add_argument("--json", action="store_true", help="print only JSON")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    dev = tuple(split_names(args.dev, "--dev"))
    if dev and not args.as_prod:
        raise DevenvError("--dev only makes sense with --as-prod", "add --as-prod, or drop --dev")
    project = load()
    tenants = pick_tenants(project, args.tenant)
    if len(tenants) != 1 and args.tenant:
        raise DevenvError("devenv diff compares one tenant at a time", "pass a single --tenant T")
    tenant = tenants[0]  # unnamed: the project's first default tenant, as the help says
    if not args.tenant and not args.json:
        print(f"devenv: comparing tenant {tenant} (pass --tenant to pick another)", file=sys.stderr)
    diffs = tenant_differences(project, tenant, args.as_prod, dev, args.backend)
    if args.json:
        print_json({"tenant": tenant, "mode": "as-prod" if args.as_prod else "local", "dev": list(dev),
                    "backend": args.backend, "differences": [asdict(d) for d in diffs]})
        return 0
    mode = f"--as-prod{' --dev ' + ','.join(dev) if dev else ''}" if args.as_prod else "local"
    print(f"tenant {tenant}: local ({mode}, {args.backend}) against production: {len(diffs)} difference(s)")
    if diffs:
        print(format_table(diffs))
    return 0


def tenant_differences(project: Project, tenant: str, as_prod: bool, dev: tuple[str, ...],
                       backend: str) -> list[Difference]:
    """Every difference, each with its reason (shared by the CLI and, later, the TUI)."""
    prod = resolve(project, tenant, "prod")
    local = resolve_as_prod(project, tenant, dev, backend) if as_prod else _plain_local(project, tenant, backend)
    order = {name: i for i, name in enumerate(project.app.components)}
    return sorted(compare(prod, local), key=lambda d: order.get(d.component, len(order)))  # "*" last, stable


def _plain_local(project: Project, tenant: str, backend: str) -> TenantSpec:
    spec = resolve(project, tenant, "local")
    return replace(spec, differences=spec.differences + tuple(backend_differences(spec, backend)))


def shorten(value: str) -> str:
    """Digests cut to 12 hex digits in the table (``--json`` keeps them whole)."""
    return _DIGEST.sub(lambda m: f"@sha256:{m.group(1)}…", value)


def format_table(diffs: list[Difference]) -> str:
    rows = [HEADERS] + [(d.component, d.field, shorten(d.prod), shorten(d.local), d.reason) for d in diffs]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADERS) - 1)]
    return "\n".join("  ".join([*(c.ljust(w) for c, w in zip(r[:-1], widths, strict=True)), r[-1]]).rstrip()
                     for r in rows)
