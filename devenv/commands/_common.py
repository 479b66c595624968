"""Helpers shared by the subcommands: loading the project once, picking tenants, JSON output."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from devenv.errors import DevenvError, Problem

if TYPE_CHECKING:  # the model loads with the project, not with this module: `status` answers without it
    from devenv.model.types import Project


def load(strict: bool = False, quiet: bool = False) -> Project:
    """Load the project from --root/cwd (through the validated-config cache); print warnings to stderr."""
    from devenv.model.loader import load_cached

    project, warnings = load_cached(strict=strict)
    if not quiet:
        for w in warnings:
            print(f"devenv: {w}", file=sys.stderr)
    return project


def split_names(values: list[str] | None, flag: str = "--tenant") -> list[str]:
    """``--tenant a,b --tenant c`` -> ``[a, b, c]``. An empty name is an error, never "all":
    ``down --tenant "$T"`` with an unset ``T`` must not stop every tenant."""
    out: list[str] = []
    for v in values or []:
        parts = [x.strip() for x in v.split(",")]
        if not all(parts):
            raise DevenvError(f"{flag} {v!r} contains an empty name",
                              f"name each one (e.g. {flag} acme,globex), or leave {flag} out")
        out += parts
    return out


def tenant_name(value: str) -> str:
    """argparse ``type`` for ``--tenant``: refuse empty names before anything loads or acts."""
    try:
        split_names([value])
    except DevenvError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None
    return value


def pick_tenants(project: Project, names: list[str] | None, default_all: bool = False) -> list[str]:
    """The tenants a command acts on: those named (each must exist), else the project's defaults
    (``default_tenants`` in devenv.yaml, else the first profile), or all with ``default_all``."""
    names = split_names(names)
    known = list(project.profiles)
    if not known:
        raise DevenvError("the project has no tenant profiles", "add profiles/<tenant>.yaml")
    unknown = [n for n in names if n not in project.profiles]
    if unknown:
        from difflib import get_close_matches

        guess = get_close_matches(unknown[0], known, n=1)
        hint = f"did you mean '{guess[0]}'? " if guess else ""
        raise DevenvError(f"unknown tenant(s): {', '.join(unknown)}",
                          f"{hint}known tenants: {', '.join(known)}")
    if names:
        return list(dict.fromkeys(names))
    if default_all:
        return known
    defaults = [t for t in project.app.default_tenants if t in project.profiles]
    return defaults or known[:1]


def add_tenant_arg(p: Any, help: str = "tenant(s) to act on, comma-separated or repeated") -> None:
    p.add_argument("--tenant", "-t", action="append", metavar="T", type=tenant_name, help=help)


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")


def problems_json(problems: list[Problem]) -> list[dict[str, Any]]:
    return [p._asdict() for p in problems]
