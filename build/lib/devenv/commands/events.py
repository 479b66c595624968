"""``devenv events``: what devenv did and why, from the log every session keeps under ``.devenv/``.

Every sync (with its files), rebuild (with its reasons), redeploy and failure (with its log tail),
whichever frontend ran it (``up --no-tui``, ``watch``, the TUI). ``--json`` prints one object per
line, ready for ``jq`` or a bug report; ``-f`` keeps printing new ones.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from typing import Any

from devenv.commands._common import add_tenant_arg, load, split_names
from devenv.errors import DevenvError

UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("events", help="what devenv did and why: syncs, rebuilds, redeploys, failures")
    add_tenant_arg(p, help="only events about these tenants (comma-separated or repeated)")
    p.add_argument("--since", metavar="AGE", help="only events newer than AGE, e.g. 30s, 10m, 2h, 1d")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new events (Ctrl+C stops)")
    p.set_defaults(run=run)


def parse_age(text: str) -> float:
    """``10m`` -> 600.0 seconds; a bad value names the accepted forms."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text or "")
    if not m:
        raise DevenvError(f"--since {text!r} is not an age", "write a number and a unit: 30s, 10m, 2h or 1d")
    return float(m.group(1)) * UNITS[m.group(2) or "s"]


def run(args: argparse.Namespace) -> int:
    from devenv.engine import eventlog

    root = load(quiet=True).app.root
    tenants = set(split_names(args.tenant))
    since = time.time() - parse_age(args.since) if args.since else None
    for rec in eventlog.read(root, tenants, since):
        _print(rec, args.json)
    if not args.follow:
        return 0
    try:
        for rec in eventlog.follow(root, tenants):
            _print(rec, args.json)
    except KeyboardInterrupt:
        return 0
    return 0


def _print(rec: dict[str, Any], as_json: bool) -> None:
    sys.stdout.write((json.dumps(rec, sort_keys=True) if as_json else format_record(rec)) + "\n")
    sys.stdout.flush()


def format_record(rec: dict[str, Any]) -> str:
    """``12:04:12 sync     web (acme, globex): synced 1 file(s) [index.html] ... in 38 ms``, with a
    failure's log tail indented below it."""
    stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(rec.get("ts") or 0)))
    comp, tenants = rec.get("component") or "", rec.get("tenants") or []
    who = (comp + (f" ({', '.join(tenants)})" if tenants else "")).strip()
    cost = rec.get("cost_ms")
    text = f"{stamp} {rec.get('kind', '?'):8} {who + ': ' if who else ''}{rec.get('message', '')}"
    text += "" if cost is None else f" in {cost:,.0f} ms"
    if rec.get("outcome") == "failed":
        text += "".join(f"\n    {line}" for line in (rec.get("detail") or [])[-15:])
    return text
