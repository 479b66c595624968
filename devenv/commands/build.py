"""``devenv build``: build the images the chosen tenants run from source, skipping every image whose
content tag already exists. Results on stdout (a line per image, or ``--json``), progress and lint
warnings on stderr; Ctrl+C stops within seconds, tags nothing half-built and exits 130."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from devenv.commands._common import add_tenant_arg, load, pick_tenants, print_json, split_names
from devenv.errors import BuildError, DevenvError

if TYPE_CHECKING:  # the model and the events load on the full path only (see build.replay)
    from devenv.build.builder import Builder, BuildResult
    from devenv.events import Event
    from devenv.model.types import Project


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("build", help="build the tenants' images; unchanged images are not rebuilt")
    add_tenant_arg(p, help="build what these tenants run from source (default: the default tenants)")
    p.add_argument("--image", "-i", action="append", metavar="IMAGE",
                   help="build these images of devenv.yaml (and their parents) instead")
    p.add_argument("--json", action="store_true", help="print only JSON on stdout: one record per image")
    p.add_argument("--force", action="store_true", help="build even when an image with the tag exists")
    p.add_argument("--concurrency", "-j", type=int, default=None, metavar="N",
                   help="images built in parallel (default: $DEVENV_BUILD_CONCURRENCY or min(4, CPUs))")
    p.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    p.set_defaults(run=run)


def images_for(project: Project, tenants: list[str]) -> list[str]:
    """The graph images the tenants' local specs build from source (``Workload.build_image``)."""
    from devenv.model.resolve import resolve

    wanted: set[str] = set()
    for t in tenants:
        wanted.update(w.build_image for w in resolve(project, t, "local").workloads.values() if w.build_image)
    return sorted(wanted)


def _wanted(project: Project, args: argparse.Namespace) -> list[str]:
    images = split_names(args.image, "--image")
    unknown = [i for i in images if i not in project.app.images]
    if unknown:
        raise DevenvError(f"unknown image(s): {', '.join(unknown)}",
                          f"images in devenv.yaml: {', '.join(project.app.images)}")
    return images or images_for(project, pick_tenants(project, args.tenant))


def _lint_warnings(project: Project, images: list[str]) -> list[str]:
    """Cache-busting Dockerfile habits are printed as warnings; they never stop a build."""
    from devenv.build.graph import closure
    from devenv.build.lint import lint_image

    lines = [f"devenv: warning: {f}" for name in sorted(closure(project.app, images))
             for f in lint_image(project.app.images[name], project.app.root)]
    for line in lines:
        print(line, file=sys.stderr)
    return lines


class Progress:
    """One stderr line per build step, start and finish; called from build threads."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet

    def __call__(self, ev: Event) -> None:
        if self.quiet:
            return
        line = self.format(ev)
        if line:
            print(line, file=sys.stderr, flush=True)

    @staticmethod
    def format(ev: Event) -> str:
        from devenv.events import BuildFinished, BuildProgress, BuildStarted

        if isinstance(ev, BuildStarted):
            return f"{ev.image}: building ({ev.reason})"
        if isinstance(ev, BuildProgress):
            return f"{ev.image}: {ev.line.strip()}" if not ev.cached else f"{ev.image}:   (cached)"
        if isinstance(ev, BuildFinished) and ev.status in ("failed", "cancelled"):
            return f"{ev.image}: {ev.status} after {ev.seconds:.1f}s"
        return ""


def _human(records: list[dict[str, Any]]) -> None:
    rows = []
    for r in records:
        built = r["status"] == "built"
        extra = f" ({r['cached_steps']}/{r['steps']} steps cached)" if built and r["steps"] else ""
        if built and r.get("method") == "append":
            extra = " (appended to the cached head)"
        rows.append((r["image"], r["status"], r["tag"], f"{r['seconds']:.2f}s{extra}"))
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(3)]
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row[:3], widths, strict=True)) + "  " + row[3])


def run(args: argparse.Namespace) -> int:
    chosen = _selection(args)
    if not args.force and _replayed(args, chosen):
        return 0
    from devenv.build.builder import Builder

    project = load(quiet=args.json)
    images = _wanted(project, args)
    if not images:
        if args.json:
            print_json([])
        else:
            print("nothing to build: the chosen tenants run no component from source")
        return 0
    warnings = None if args.quiet else _lint_warnings(project, images)
    from devenv import dockerhttp

    dockerhttp.ping()  # no engine: refuse before the digest cache (or anything) is written
    sig = _signature(project, images)  # before the digests: an edit during the run misses the replay
    builder = Builder(project, emit=Progress(args.quiet), concurrency=args.concurrency)
    try:
        results = builder.build(images, force=args.force)
    except BuildError as exc:
        for line in exc.log_tail:
            print(f"  | {line}", file=sys.stderr)
        raise
    _remember(project, builder, chosen, sig, results, warnings)
    _print([r.to_json() for r in results.values()], args.json)
    return 0


def _print(records: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print_json(records)
    else:
        _human(records)


def _selection(args: argparse.Namespace) -> list[list[str]]:
    from devenv.build.replay import selection

    return selection(split_names(args.tenant), split_names(args.image, "--image"))


def _replayed(args: argparse.Namespace, chosen: list[list[str]]) -> bool:
    """A no-op answered from the last run's replay (``build/replay.py``), when it still holds."""
    import time

    from devenv.build.replay import replay
    from devenv.inputs import fingerprint, project_root

    t0 = time.monotonic()
    root = project_root()
    answer = replay(root, fingerprint(root, False), chosen, need_warnings=not args.quiet)
    if answer is None:
        return False
    records, warnings = answer
    for line in warnings:
        print(line, file=sys.stderr)
    seconds = round(time.monotonic() - t0, 3)
    _print([{**r, "seconds": seconds} for r in records], args.json)
    return True


def _signature(project: Project, images: list[str]) -> str | None:
    from devenv.build.graph import closure
    from devenv.build.replay import inputs_of, signature

    return signature(*inputs_of(project.app.images[n] for n in closure(project.app, images)))


def _remember(project: Project, builder: Builder, chosen: list[list[str]], sig: str | None,
              results: dict[str, BuildResult], warnings: list[str] | None) -> None:
    """Record what the next no-op run may replay: each image as that run would print it (cached)."""
    from devenv.build.replay import record
    from devenv.inputs import fingerprint

    if sig is None:
        return
    records = []
    for r in results.values():
        rec = {k: v for k, v in r.to_json().items() if k not in ("method", "detail")}
        records.append({**rec, "status": "cached", "steps": 0, "cached_steps": 0, "reason": ""})
    externals = {ref: i for p in builder.plans.values() for ref, i in p.external.items() if i}
    record(project.app.root, fingerprint(project.app.root, False), chosen, sig, records, externals, warnings)
