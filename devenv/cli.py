"""The ``devenv`` command line.

Each subcommand lives in ``devenv/commands/<name>.py`` and exposes ``add_parser(subparsers)`` and
``run(args) -> int``; this module only discovers them, parses, and turns every ``DevenvError`` into
a message and a hint on stderr with a non-zero exit: users never see a traceback for a mistake.
With no subcommand, ``devenv`` opens the terminal UI when stdout is a terminal.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

from devenv import __version__
from devenv.errors import DevenvError


def _command_modules() -> list[ModuleType]:
    import devenv.commands as pkg

    mods = []
    for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
        if not info.name.startswith("_"):
            mods.append(importlib.import_module(f"devenv.commands.{info.name}"))
    return mods


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devenv",
        description="Run your production's tenants on a laptop. With no command: the terminal UI.",
    )
    parser.add_argument("--version", action="version", version=f"devenv {__version__}")
    parser.add_argument("--root", type=Path, default=None,
                        help="the project directory (default: the nearest one with devenv.yaml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in _command_modules():
        mod.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.root is not None:
        os.environ["DEVENV_ROOT"] = str(args.root.resolve())
    if args.command is None:
        if sys.stdout.isatty() and sys.stdin.isatty():
            args = parser.parse_args([*argv, "up"])
        else:
            parser.print_help()
            return 0
    try:
        return int(args.run(args) or 0)
    except DevenvError as exc:
        print(f"devenv: error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("devenv: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
