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
    sd = ds.add_parser("seed", help="run the seed the tenant's profile names (it runs by itself on a first start)")
    _common(sd)
    sd.set_defaults(run=run_seed_command)


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

    return backend_driver(get_backend(backend_name, project, None))


def backend_driver(backend: Any) -> Any:
    """The data driver of ``backend`` (checked first), reporting on stderr."""
    if backend.data_unsupported:
        raise DevenvError(backend.data_unsupported, "use the compose backend (the default) for tenant data")
    backend.check()
    from devenv.data import driver_for

    return driver_for(backend, say=lambda msg: print(f"devenv: {msg}", file=sys.stderr))


def run_snapshot(args: argparse.Namespace) -> int:
    from devenv.data import store
    from devenv.data.volumes import human
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
    from devenv.data.volumes import human
    from devenv.lock import project_lock

    project = load()
    tenant = one_tenant(project, args.tenant)
    data = driver(project, args.backend)
    snap = store.read(project.app.root, tenant, store.check_name(args.name))
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
    from devenv.data.volumes import human

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


# -- `devenv up --data NAME` and profile seeds ---------------------------------------------------------

def prepare_up(engine: Any, args: argparse.Namespace, tenants: list[str]) -> None:
    """Before ``up`` starts watching: restore ``--data NAME`` into each tenant (a tenant that never
    ran here is brought up once, detached, so compose creates its volumes), and subscribe the seeder
    for tenants whose data volumes do not exist yet (their first start)."""
    name = getattr(args, "data", None)
    if not engine.backend.data_unsupported and not getattr(args, "detach", False):  # --detach: no keys to serve
        from devenv.data import driver_for

        engine.data = driver_for(engine.backend)  # the TUI's snapshot/restore keys (reports via events)
    seeded = [t for t in tenants if engine.project.profiles[t].seed is not None]
    if not name and not seeded:
        return
    data = backend_driver(engine.backend)  # the session's backend (its --context); raises if it has no data
    if name:
        from devenv.lock import project_lock

        with project_lock(data.root, f"devenv up --data {name}"):
            _restore_before_up(data, args, tenants, name)
        return
    fresh = [t for t in seeded if not data.engine_volumes(t)]
    if fresh:  # a silent driver: the seed reports on the timeline (printing would tear the TUI)
        engine.subscribe(Seeder(engine.data or data, engine, set(fresh)))


def _restore_before_up(data: Any, args: argparse.Namespace, tenants: list[str], name: str) -> None:
    import asyncio

    from devenv.commands.up import make_engine
    from devenv.data import store

    for t in tenants:
        store.read(data.root, t, store.check_name(name))  # every snapshot exists before anything starts
    for t in tenants:
        if not data.engine_volumes(t):
            print(f"devenv: {t}: first start; creating its volumes before restoring {name}", file=sys.stderr)
            first = make_engine(args, [t], watch=False)
            first.lock = None  # the caller holds the project lock already (flock would wait on itself)
            asyncio.run(_start_detached(first))
        data.restore(t, name)
        print(f"devenv: {t}: runs on snapshot {name}", file=sys.stderr)


async def _start_detached(engine: Any) -> None:
    try:
        await engine.start()
    finally:
        await engine.stop(leave_running=True)


class Seeder:
    """An engine subscriber: once a fresh tenant is up, run its profile's seed on a (non-daemon)
    thread, so a detached ``up`` exits only after the seed finished, and report on the timeline."""

    def __init__(self, data: Any, engine: Any, tenants: set[str]) -> None:
        self.data, self.engine, self.pending = data, engine, tenants

    def __call__(self, ev: Any) -> None:
        from devenv.engine.events import TenantState

        if isinstance(ev, TenantState) and ev.state == "up" and ev.tenant in self.pending:
            self.pending.discard(ev.tenant)
            import threading

            threading.Thread(target=self._run, args=(ev.tenant,), name=f"devenv-seed-{ev.tenant}").start()

    def _run(self, tenant: str) -> None:
        from devenv.engine.events import Timeline

        t0 = time.perf_counter()
        try:
            what = run_seed(self.data, tenant)
            self.engine.emit(Timeline(kind="info", message=f"seeded from {what}", tenants=(tenant,),
                                      cost_ms=(time.perf_counter() - t0) * 1000))
        except DevenvError as exc:
            self.engine.emit(Timeline(kind="warn", message=f"seed failed: {exc.message.splitlines()[0]}",
                                      tenants=(tenant,), detail=tuple(exc.message.splitlines()[1:])))


def run_seed(data: Any, tenant: str) -> str:
    """Run the tenant's profile seed now and remember that it ran on these volumes."""
    from devenv.data import store
    from devenv.data.load import load_dump

    seed = data.project.profiles[tenant].seed
    if seed is None:
        raise DevenvError(f"tenant {tenant}'s profile names no seed",
                          "add `seed: FILE.sql` (or `seed: {command: [...], component: C}`) to its profile")
    if seed.sql:
        path = data.root / seed.sql
        if not path.is_file():
            raise DevenvError(f"seed file {seed.sql} (profiles/{tenant}.yaml) does not exist",
                              "fix the path; it is relative to the project root")
        load_dump(data, tenant, str(path))
    else:
        _seed_command(data, tenant, seed)
    state = store.read_state(data.root, tenant)
    store.write_state(data.root, tenant, {**state, "seeded": seed.describe(), "seeded_at": store.now_iso(),
                                          "seeded_volumes": data.volume_ids(tenant)})
    return str(seed.describe())


def _seed_command(data: Any, tenant: str, seed: Any) -> None:
    spec = data.spec(tenant)
    comp = seed.component or next((w.name for w in spec.workloads.values() if w.role == "app"), "")
    if comp not in spec.workloads:
        raise DevenvError(f"seed component {comp!r} is not a component of tenant {tenant}",
                          f"its components: {', '.join(spec.workloads)}")
    code, out = data.backend.exec(tenant, comp, list(seed.command))
    if code != 0:
        raise DevenvError(f"seed command `{seed.describe()}` in {tenant}/{comp} exited {code}:\n    "
                          + "\n    ".join(out.strip().splitlines()[-10:] or ["(no output)"]),
                          f"fix it and rerun with `devenv data seed --tenant {tenant}`")


def run_seed_command(args: argparse.Namespace) -> int:
    project = load()
    tenant = one_tenant(project, args.tenant)
    what = run_seed(driver(project, args.backend), tenant)
    print(f"{tenant}: seeded from {what}")
    return 0
