"""``devenv validate``: check every file of the project and list every problem at once.

It goes through ``load_project``, the path every other command takes, so what it accepts the
others load; a ``ConfigError`` carries every problem of the pass, which it lists instead of failing.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from devenv.commands._common import print_json, problems_json
from devenv.errors import ConfigError, DevenvError, Problem
from devenv.model.loader import load_project


def add_parser(sub: Any) -> None:
    p = sub.add_parser("validate", help="check devenv.yaml, the profiles and the overlays; list every problem",
                       description="Check devenv.yaml, profiles/*.yaml and the overlays. Exit 1 if any error is found.")
    p.add_argument("--strict", action="store_true",
                   help="also report keys of the production profiles that devenv does not know (as warnings)")
    p.add_argument("--json", action="store_true", help="print only JSON: {ok, problems}")
    p.set_defaults(run=run)


def collect(strict: bool) -> list[Problem]:
    """Every problem of the project at the current root (``--root``, $DEVENV_ROOT or the cwd)."""
    try:
        _project, warnings = load_project(strict=strict)
    except ConfigError as exc:
        return exc.problems
    return warnings


def summary(problems: list[Problem]) -> str:
    errors = sum(p.severity == "error" for p in problems)
    warnings = len(problems) - errors
    if not problems:
        return "configuration OK"
    return f"{errors} error(s), {warnings} warning(s)"


def run(args: argparse.Namespace) -> int:
    try:
        problems = collect(args.strict)
    except DevenvError as exc:
        if not args.json:
            raise
        problems = [Problem("devenv.yaml", None, "", exc.message, exc.hint)]
    ok = not any(p.severity == "error" for p in problems)
    if args.json:
        print_json({"ok": ok, "problems": problems_json(problems)})
        return 0 if ok else 1
    for problem in problems:
        print(problem)
    print(summary(problems), file=sys.stderr if problems else sys.stdout)
    return 0 if ok else 1
