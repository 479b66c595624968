"""``devenv build``: build the images the chosen tenants run from source, skipping every image whose
content tag already exists. Results on stdout (a line per image, or ``--json``), progress and lint
warnings on stderr; Ctrl+C stops within seconds, tags nothing half-built and exits 130."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from devenv.commands._common import add_tenant_arg, load, pick_tenants, print_json, split_names
from devenv.errors import BuildError, DevenvError
from devenv.events import BuildFinished, BuildProgress, BuildStarted, Event
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


def _lint_warnings(project: Project, images: list[str]) -> None:
    """Cache-busting Dockerfile habits are printed as warnings; they never stop a build."""
    from devenv.build.graph import closure
    from devenv.build.lint import lint_image

    for name in sorted(closure(project.app, images)):
        for f in lint_image(project.app.images[name], project.app.root):
            print(f"devenv: warning: {f}", file=sys.stderr)


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
        if isinstance(ev, BuildStarted):
            return f"{ev.image}: building ({ev.reason})"
        if isinstance(ev, BuildProgress):
            return f"{ev.image}: {ev.line.strip()}" if not ev.cached else f"{ev.image}:   (cached)"
        if isinstance(ev, BuildFinished) and ev.status in ("failed", "cancelled"):
            return f"{ev.image}: {ev.status} after {ev.seconds:.1f}s"
        return ""


def _human(results: dict[str, Any]) -> None:
    rows = []
    for r in results.values():
        extra = f" ({r.cached_steps}/{r.steps} steps cached)" if r.status == "built" and r.steps else ""
        if r.status == "built" and getattr(r, "method", "") == "append":
            extra = " (appended to the cached head)"
        rows.append((r.image, r.status, r.ref, f"{r.seconds:.2f}s{extra}"))
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(3)]
    for row in rows:
        print("  ".join(v.ljust(w) for v, w in zip(row[:3], widths, strict=True)) + "  " + row[3])


def run(args: argparse.Namespace) -> int:
    from devenv.build.builder import Builder

    project = load(quiet=args.json)
    images = _wanted(project, args)
    if not images:
        if args.json:
            print_json([])
        else:
            print("nothing to build: the chosen tenants run no component from source")
        return 0
    if not args.quiet:
        _lint_warnings(project, images)
    from devenv import dockerhttp

    dockerhttp.ping()  # no engine: refuse before the digest cache (or anything) is written
    builder = Builder(project, emit=Progress(args.quiet), concurrency=args.concurrency)
    try:
        results = builder.build(images, force=args.force)
    except BuildError as exc:
        for line in exc.log_tail:
            print(f"  | {line}", file=sys.stderr)
        raise
    if args.json:
        print_json([r.to_json() for r in results.values()])
    else:
        _human(results)
    return 0
