"""``devenv status``: one record per tenant component; ``--json`` for scripts."""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from devenv import layout
from devenv.commands._common import add_tenant_arg, load, print_json, split_names

if TYPE_CHECKING:
    from devenv.backends.base import ComponentStatus


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
    if args.backend != "compose":  # compose's one list call says itself when the engine is away
        backend.check()
    rows = _with_synced(project.app.root, backend.status(split_names(args.tenant) or None))
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
    for r in rows:
        if r.synced:
            print(f"{r.tenant}/{r.component} runs synced content: {r.synced}")
    return 0


def _with_synced(root: Path, rows: list[ComponentStatus]) -> list[ComponentStatus]:
    """Mark the containers a live update synced files into (their image lags behind them). Where no
    tenant has a live record (the usual case) the live-update machinery is not even imported."""
    tenants = {r.tenant for r in rows}
    if not any((layout.tenant_dir(root, t) / "live.json").is_file() for t in tenants):
        return rows
    from devenv.engine.live import read_live, synced_note

    records = {t: read_live(root, t) for t in tenants}
    return [dataclasses.replace(r, synced=note) if (note := synced_note(records[r.tenant].get(r.component), r.image))
            else r for r in rows]
