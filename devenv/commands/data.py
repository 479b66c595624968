"""``devenv data``: snapshot, restore, list, remove and load one tenant's data.

Every subcommand but ``list`` names exactly one tenant, and touches only that tenant's volumes and
containers. ``restore`` replaces data, so it asks first in a terminal and, without one, refuses
unless ``--yes`` was given (a script must say it means it).
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

from devenv.commands._common import add_tenant_arg, load, pick_tenants, print_json
from devenv.errors import DevenvError
from devenv.model.types import Project


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("data", help="snapshot, restore, list, remove or load a tenant's data")
    ds = p.add_subparsers(dest="data_command", metavar="ACTION", required=True)
    s = ds.add_parser("snapshot", help="copy every volume of a running (or stopped) tenant")
    _common(s)
    s.add_argument("name", nargs="?", help="snapshot name (default: the UTC time, e.g. 20261201-231500)")
    s.add_argument("--json", action="store_true", help="print the snapshot's record as JSON")
    s.set_defaults(run=run_snapshot)
    r = ds.add_parser("restore", help="replace a tenant's data with a snapshot (asks first)")
    _common(r)
    r.add_argument("name", help="the snapshot to restore")
    r.add_argument("--yes", "-y", action="store_true", help="do not ask (needed without a terminal)")
    r.set_defaults(run=run_restore)
    ls = ds.add_parser("list", help="the snapshots, with size, time and the images they came from")
    add_tenant_arg(ls, help="only these tenants' snapshots")
    ls.add_argument("--json", action="store_true", help="one JSON list on stdout")
    ls.set_defaults(run=run_list)
    rm = ds.add_parser("rm", help="delete a snapshot")
    _common(rm, backend=False)
    rm.add_argument("name", help="the snapshot to delete")
    rm.set_defaults(run=run_rm)
    ld = ds.add_parser("load", help="load a SQL dump into the tenant's database, masking columns inside it")
    _common(ld)
    ld.add_argument("file", help="a plain SQL dump (optionally gzipped) or a pg_dump custom-format file")
    ld.add_argument("--mask", metavar="RULES", help="a YAML file of `table.column: fake|hash|null|keep`")
    ld.add_argument("--component", help="the Postgres component (default: the tenant's postgres service)")
    ld.add_argument("--clean", action="store_true",
                    help="drop the public schema first (in the same transaction: a failed load keeps it)")
    ld.add_argument("--json", action="store_true", help="print what was loaded as JSON")
    ld.set_defaults(run=run_load)


def _common(p: argparse.ArgumentParser, backend: bool = True) -> None:
    p.add_argument("--tenant", "-t", required=True, metavar="T", help="the one tenant to act on")
    if backend:
        p.add_argument("--backend", choices=["compose", "kind"], default="compose")


def one_tenant(project: Project, value: str) -> str:
    names = pick_tenants(project, [value])
    if len(names) != 1:
        raise DevenvError(f"--tenant names {len(names)} tenants; this command acts on exactly one",
                          "name one tenant, e.g. --tenant acme")
    return names[0]


def driver(project: Project, backend_name: str) -> Any:
    """The data driver of the chosen backend, or the backend's declared reason it has none."""
    from devenv.backends import get_backend

    backend = get_backend(backend_name, project, None)
    if backend.data_unsupported:
        raise DevenvError(backend.data_unsupported, "use the compose backend (the default) for tenant data")
    backend.check()
    from devenv.backends.compose import ComposeBackend
    from devenv.data.compose import ComposeData

    assert isinstance(backend, ComposeBackend)
    return ComposeData(backend, say=lambda msg: print(f"devenv: {msg}", file=sys.stderr))


def run_snapshot(args: argparse.Namespace) -> int:
    from devenv.data import store
    from devenv.data.compose import human
    from devenv.lock import project_lock

    project = load()
    tenant = one_tenant(project, args.tenant)
    name = store.check_name(args.name or store.default_name())
    data = driver(project, args.backend)
    t0 = time.perf_counter()
    with project_lock(project.app.root, f"devenv data snapshot --tenant {tenant} {name}"):
        snap = data.snapshot(tenant, name)
    if args.json:
        print_json(snap.to_json())
    else:
        print(f"{tenant}: snapshot {snap.name}: {len(snap.volumes)} volume(s), {human(snap.size)}, "
              f"in {time.perf_counter() - t0:.1f} s")
    return 0


def run_restore(args: argparse.Namespace) -> int:
    from devenv.data import store
    from devenv.data.compose import human
    from devenv.lock import project_lock

    project = load()
    tenant = one_tenant(project, args.tenant)
    snap = store.read(project.app.root, tenant, store.check_name(args.name))
    data = driver(project, args.backend)
    confirm(f"Replace tenant {tenant}'s data ({', '.join(v.volume for v in snap.volumes)}) with snapshot "
            f"{snap.name} of {snap.created}? Its current data is lost unless you snapshot it first.", args.yes)
    t0 = time.perf_counter()
    with project_lock(project.app.root, f"devenv data restore --tenant {tenant} {snap.name}"):
        data.restore(tenant, snap.name)
    print(f"{tenant}: restored snapshot {snap.name} ({human(snap.size)}) in {time.perf_counter() - t0:.1f} s")
    return 0


def confirm(question: str, yes: bool) -> None:
    """Ask in a terminal; without one, only ``--yes`` proceeds (a refusal names it)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise DevenvError("refusing to replace data without confirmation (no terminal to ask in)",
                          "pass --yes to restore without asking")
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    answer = sys.stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        raise DevenvError("restore cancelled; nothing was changed")


def run_list(args: argparse.Namespace) -> int:
    from devenv.commands._common import split_names
    from devenv.data import store
    from devenv.data.compose import human

    project = load(quiet=args.json)
    tenants = pick_tenants(project, args.tenant) if split_names(args.tenant) else [None]
    snaps = [s for t in tenants for s in store.list_snapshots(project.app.root, t)]
    if args.json:
        print_json([s.to_json() for s in snaps])
        return 0
    if not snaps:
        print("no snapshots (take one with `devenv data snapshot --tenant T [NAME]`)")
    for s in snaps:
        print(f"{s.tenant:<12} {s.name:<24} {s.created:<26} {human(s.size):>9}  "
              + ", ".join(f"{c}={i.ref}" for c, i in sorted(s.images.items()) if c in {v.component for v in s.volumes}))
    return 0


def run_rm(args: argparse.Namespace) -> int:
    from devenv.data import store

    project = load()
    tenant = one_tenant(project, args.tenant)
    snap = store.remove(project.app.root, tenant, store.check_name(args.name))
    print(f"{tenant}: snapshot {snap.name} removed")
    return 0


def run_load(args: argparse.Namespace) -> int:
    from devenv.data.load import load_dump

    project = load()
    tenant = one_tenant(project, args.tenant)
    data = driver(project, args.backend)
    result = load_dump(data, tenant, args.file, mask_file=args.mask, component=args.component, clean=args.clean)
    if args.json:
        print_json(result)
    return 0
