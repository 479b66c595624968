"""``devenv status``: one record per tenant component; ``--json`` for scripts.

On compose the answer is the engine's one container list read through ``devenv.containers``. What
the list does not say (the project's name for the label filter, each component's URL, the
configuration's warnings) comes from a small index under ``.devenv/cache/`` keyed by the same
content fingerprint as the validated-config cache; while it holds, ``status`` loads neither YAML
nor the model and costs ``docker ps`` plus Python's start. Any change to the configuration misses
the index, and the full path (load, resolve, the backend) answers and writes it anew.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devenv import layout
from devenv.commands._common import add_tenant_arg, print_json, split_names

if TYPE_CHECKING:
    from devenv.model.types import Project

INDEX = "status.json"
INDEX_FORMAT = 1
Row = dict[str, Any]


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("status", help="state, health, image and URL of every running component")
    add_tenant_arg(p)
    p.add_argument("--json", action="store_true", help="print only JSON on stdout")
    p.add_argument("--backend", choices=["compose", "kind"], default="compose")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from devenv.inputs import project_root

    root = project_root()
    tenants = split_names(args.tenant) or None
    rows, warnings = _answer(root, args.backend, tenants)
    _check_named(root, tenants, rows)
    if not args.json:
        for w in warnings:
            print(f"devenv: {w}", file=sys.stderr)
    _show(_with_synced(root, rows), args.json)
    return 0


def _answer(root: Path, backend: str, tenants: list[str] | None) -> tuple[list[Row], list[str]]:
    """Rows and warnings; with the engine down, a mistyped tenant still says so first."""
    from devenv.errors import DevenvError

    try:
        answer = _indexed(root, tenants) if backend == "compose" else None
        return answer if answer is not None else _loaded(root, backend, tenants)
    except DevenvError:
        _check_named(root, tenants, [])
        raise


def _check_named(root: Path, tenants: list[str] | None, rows: list[Row]) -> None:
    """A named tenant that has no profile and runs nothing is a typo, not "nothing running"."""
    from devenv.errors import DevenvError
    from devenv.inputs import PROFILES_DIR

    running = {r["tenant"] for r in rows}
    unknown = [t for t in tenants or [] if t not in running
               and ("/" in t or not (root / PROFILES_DIR / f"{t}.yaml").is_file())]
    if unknown:
        known = sorted(p.stem for p in (root / PROFILES_DIR).glob("*.yaml"))
        raise DevenvError(f"unknown tenant(s): {', '.join(unknown)}", f"known tenants: {', '.join(known) or '(none)'}")


def _show(rows: list[Row], as_json: bool) -> None:
    if as_json:
        print_json(rows)
        return
    if not rows:
        print("no tenant is running; start one with `devenv up`")
        return
    cols = ("tenant", "component", "state", "health", "url", "image")
    table = [cols] + [tuple(str(r[c]) for c in cols) for r in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(cols))]
    for row in table:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    for r in rows:
        if r["synced"]:
            print(f"{r['tenant']}/{r['component']} runs synced content: {r['synced']}")


def _indexed(root: Path, tenants: list[str] | None) -> tuple[list[Row], list[str]] | None:
    """The answer from the engine's list and the index, or None when the index does not hold."""
    from devenv.inputs import fingerprint

    index = _read_index(root)
    if index is None or index.get("key") != fingerprint(root, False):
        return None
    from devenv import dockerhttp
    from devenv.containers import LABEL_PROJECT, status_rows

    urls: dict[str, dict[str, str]] = index["urls"]
    summaries = dockerhttp.containers([f"{LABEL_PROJECT}={index['name']}"])
    _count_restarts(summaries)
    return status_rows(summaries, tenants, lambda t, c: urls.get(t, {}).get(c, "")), list(index["warnings"])


def _count_restarts(summaries: list[Row]) -> None:
    """A restart loop's count is not in the summary: inspect only those (as the backend does)."""
    from devenv import dockerhttp

    for r in summaries:
        if r.get("State") == "restarting":
            info = dockerhttp.get(f"/containers/{r['Id']}/json") or {}
            r["RestartCount"] = info.get("RestartCount", 0)


def _read_index(root: Path) -> dict[str, Any] | None:
    from devenv.fsutil import read_record

    index = read_record(layout.cache_file(root, INDEX), INDEX_FORMAT, 1 << 20)
    if index is None:
        return None
    urls, warnings = index.get("urls"), index.get("warnings")
    ok = (isinstance(index.get("name"), str) and isinstance(warnings, list)
          and isinstance(urls, dict) and all(isinstance(u, dict) for u in urls.values()))
    return index if ok else None  # a hand-edited index is only a miss: the full path answers


def _loaded(root: Path, backend_name: str, tenants: list[str] | None) -> tuple[list[Row], list[str]]:
    """The full path: load the project, ask the backend, and (compose) write the index anew."""
    import dataclasses

    from devenv.backends import get_backend
    from devenv.model.loader import load_cached

    project, warnings = load_cached(root)
    backend = get_backend(backend_name, project, None)
    if backend_name != "compose":  # compose's one list call says itself when the engine is away
        backend.check()
    rows = [dataclasses.asdict(r) for r in backend.status(tenants)]
    if backend_name == "compose":
        _write_index(root, project, [str(w) for w in warnings])
    return rows, [str(w) for w in warnings]


def _write_index(root: Path, project: Project, warnings: list[str]) -> None:
    """Store what the fast path needs; only into an existing ``.devenv/`` (``status`` creates no state
    directory), and a failure to write is only a slower next ``status``."""
    from devenv.backends.compose import local_url
    from devenv.errors import DevenvError
    from devenv.fsutil import atomic_write_json
    from devenv.inputs import fingerprint
    from devenv.model.resolve import resolve

    if not layout.state_root(root).is_dir():
        return
    try:
        urls = {t: {c: local_url(spec, c) or "" for c in spec.workloads}
                for t in project.profiles for spec in [resolve(project, t, "local")]}
        index = {"format": INDEX_FORMAT, "key": fingerprint(root, False), "name": project.app.name,
                 "urls": urls, "warnings": warnings}
        atomic_write_json(layout.ensure(root, "cache") / INDEX, index)
    except (DevenvError, OSError):
        return


def _with_synced(root: Path, rows: list[Row]) -> list[Row]:
    """Mark the containers a live update synced files into (their image lags behind them). Where no
    tenant has a live record (the usual case) the live-update machinery is not even imported."""
    tenants = {r["tenant"] for r in rows}
    if not any((layout.tenant_dir(root, t) / "live.json").is_file() for t in tenants):
        return rows
    from devenv.engine.live import read_live, synced_note

    records = {t: read_live(root, t) for t in tenants}
    return [{**r, "synced": synced_note(records[r["tenant"]].get(r["component"]), r["image"]) or r["synced"]}
            for r in rows]
