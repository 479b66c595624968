"""``devenv up``: build, start the tenants, wait for health, print URLs, then watch (TUI by default)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from devenv.commands._common import add_tenant_arg, load, pick_tenants
from devenv.errors import DevenvError
from devenv.model.types import Project, TenantSpec


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("up", help="build and start tenants, then watch (the TUI in a terminal)")
    add_tenant_arg(p)
    p.add_argument("--backend", choices=["compose", "kind"], default="compose")
    p.add_argument("--no-tui", action="store_true", help="plain output instead of the terminal UI")
    p.add_argument("--detach", "-d", action="store_true", help="return once every component is healthy")
    p.add_argument("--no-watch", action="store_true", help="do not watch files after starting")
    p.add_argument("--expose", action="store_true", help="publish ports on all interfaces, not only 127.0.0.1")
    p.add_argument("--as-prod", action="store_true", help="run the tenant with its pinned production images")
    p.add_argument("--dev", action="append", metavar="COMPONENT", help="with --as-prod: build these from source")
    p.add_argument("--timeout", type=float, default=300, help="seconds to wait for health (default 300)")
    p.add_argument("--context", help="kind: a kube context other than devenv's own (explicit opt-in)")
    p.add_argument("--data", metavar="SNAPSHOT", help="start the tenant(s) on this snapshot (`devenv data list`)")
    p.set_defaults(run=run)


def make_engine(args: argparse.Namespace, tenants: list[str], watch: bool,  # type: ignore[no-untyped-def]
                project: Project | None = None):
    """The session's engine (``devenv.engine.session``); ``project`` as the caller loaded it."""
    from devenv.engine.session import backend_options, open_session

    project = project or load()
    specs = _as_prod_specs(project, tenants, args) if getattr(args, "as_prod", False) else None
    if specs is None:
        _check_registry_images(project, tenants)
    return open_session(project, tenants, backend=args.backend, what="devenv up", watch=watch,
                        timeout=args.timeout, specs=specs,
                        follow=not getattr(args, "detach", False), **backend_options(args))


def _as_prod_specs(project: Project, tenants: list[str], args: argparse.Namespace) -> dict[str, TenantSpec]:
    from devenv.commands._common import split_names
    from devenv.dockerclient import client
    from devenv.model.asprod import check_images_present, resolve_as_prod

    specs = {t: resolve_as_prod(project, t, tuple(split_names(args.dev, "--dev")), backend=args.backend) for t in tenants}
    unknown = [d for d in split_names(args.dev, "--dev") if d not in project.app.components]
    if unknown:
        raise DevenvError(f"--dev names unknown component(s): {', '.join(unknown)}",
                          f"components: {', '.join(project.app.components)}")
    for spec in specs.values():  # before anything starts: every pinned image must be here
        for warning in check_images_present(spec, client()):
            print(f"devenv: warning: {warning}", file=sys.stderr)
    return specs


def _check_registry_images(project: Project, tenants: list[str]) -> None:
    """Backing services that only name a registry image (``ref``, e.g. adopted from compose) must be
    on this machine or pullable before anything starts, as with ``--as-prod``: a tenant half
    started on a missing image helps no one. No engine call when no service has a reference."""
    from devenv.model.resolve import resolve

    specs = [resolve(project, t) for t in tenants]
    if not any(w.image_ref for s in specs for w in s.workloads.values()):
        return
    from devenv.dockerclient import client
    from devenv.model.asprod import check_images_present

    for spec in specs:
        for warning in check_images_present(spec, client(), what="registry image(s)", dev_hint=False):
            print(f"devenv: warning: {warning}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    project = load()
    tenants = pick_tenants(project, args.tenant)
    if args.dev and not args.as_prod:
        raise DevenvError("--dev only makes sense with --as-prod", "add --as-prod, or drop --dev")
    use_tui = not (args.no_tui or args.detach) and sys.stdout.isatty() and sys.stdin.isatty()
    engine = make_engine(args, tenants, watch=not (args.no_watch or args.detach), project=project)
    from devenv.commands.data import prepare_up

    prepare_up(engine, args, tenants)  # --data restores first; fresh tenants with a profile seed get it
    if use_tui:
        from tui import run_tui

        return int(run_tui(engine) or 0)
    from devenv.commands._printer import Printer

    engine.subscribe(Printer(logs=not args.detach))
    return asyncio.run(_plain(engine, args.detach))


async def _plain(engine, detach: bool) -> int:  # type: ignore[no-untyped-def]
    try:
        # The engine checks the backend before the lock file or a generated secret is written,
        # and holds the session's lock only while building and deploying: a watching session
        # does not block others.
        await engine.start()
    except DevenvError:
        await engine.stop(leave_running=True)
        raise
    _print_urls(engine)
    if detach:
        await engine.stop(leave_running=True)
        return 0
    print("devenv: watching; Ctrl+C stops watching and leaves the tenants running", file=sys.stderr)
    try:
        await asyncio.Event().wait()
    finally:
        await engine.stop(leave_running=True)
    return 0


def _print_urls(engine) -> None:  # type: ignore[no-untyped-def]
    for t in engine.tenants:
        urls = [f"{c}={u}" for c in engine.specs[t].workloads if (u := engine.url(t, c))]
        print(f"{t}: {'  '.join(urls) if urls else 'up (no HTTP components)'}")
    sys.stdout.flush()
