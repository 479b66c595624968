"""``devenv lint``: Dockerfile habits that defeat the build cache or leak secrets, with the fix.

Exits 1 when there are findings, so CI can gate on it; ``devenv build`` prints the same findings as
warnings and builds anyway."""

from __future__ import annotations

import argparse
from pathlib import Path

from devenv.commands._common import print_json, split_names
from devenv.errors import DevenvError


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("lint", help="find cache-busting and secret-leaking Dockerfile habits")
    p.add_argument("dockerfiles", nargs="*", type=Path, metavar="DOCKERFILE",
                   help="lint these files (their directory as context) instead of the project's images")
    p.add_argument("--image", "-i", action="append", metavar="IMAGE", help="only these images of devenv.yaml")
    p.add_argument("--json", action="store_true", help="print only JSON on stdout")
    p.set_defaults(run=run)


def _findings(args: argparse.Namespace) -> list:  # type: ignore[type-arg]
    from devenv.build.lint import lint_app, lint_dockerfile, lint_image

    if args.dockerfiles:
        out = []
        for f in args.dockerfiles:
            if not f.is_file():
                raise DevenvError(f"no such Dockerfile: {f}")
            out += lint_dockerfile(f, f.parent)
        return out
    from devenv.commands._common import load

    project = load(quiet=args.json)
    names = split_names(args.image, "--image")
    unknown = [n for n in names if n not in project.app.images]
    if unknown:
        raise DevenvError(f"unknown image(s): {', '.join(unknown)}",
                          f"images in devenv.yaml: {', '.join(project.app.images)}")
    if names:
        return [f for n in names for f in lint_image(project.app.images[n], project.app.root)]
    return lint_app(project.app)


def run(args: argparse.Namespace) -> int:
    findings = _findings(args)
    if args.json:
        print_json([f.to_json() for f in findings])
    elif findings:
        for f in findings:
            print(f)
    else:
        print("no findings")
    return 1 if findings else 0
