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


def command_names() -> dict[str, str]:
    """Command name -> module name (``import_`` is ``import``), found without importing any."""
    import devenv.commands as pkg

    names = sorted(i.name for i in pkgutil.iter_modules(pkg.__path__) if not i.name.startswith("_"))
    return {n.rstrip("_"): n for n in names}


def _command_modules(only: str | None = None) -> list[ModuleType]:
    """The command modules to register: all of them, or only the one the command line names (a
    command's module imports what it needs; ``devenv status`` must not pay for ``render``'s)."""
    names = command_names()
    chosen = [names[only]] if only in names else list(names.values())
    return [importlib.import_module(f"devenv.commands.{n}") for n in chosen]


def chosen_command(argv: Sequence[str]) -> str | None:
    """The subcommand ``argv`` names (skipping ``--root DIR``), or None (help, version, TUI)."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--root":
            skip = True
        elif not arg.startswith("-"):
            return arg
    return None


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="devenv",
        description="Run your production's tenants on a laptop. With no command: the terminal UI.",
    )
    parser.add_argument("--version", action="version", version=f"devenv {__version__}")
    parser.add_argument("--root", type=Path, default=None,
                        help="the project directory (default: the nearest one with devenv.yaml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in _command_modules(only):
        mod.add_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(chosen_command(argv))
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
        return _report(exc)
    except KeyboardInterrupt:
        print("devenv: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        _quiet_stdout()
        return 0
    except OSError as exc:  # last resort: the real sites convert their own errors with the fix
        return _report(fsutil_error(exc))
    except RecursionError:
        return _report(DevenvError("the input nests too deeply", "flatten the file devenv was reading"))


def fsutil_error(exc: OSError) -> DevenvError:
    from devenv.fsutil import os_error

    where = exc.filename if exc.filename is not None else "a file"
    return os_error(exc, where, "use")


def _report(exc: DevenvError) -> int:
    print(f"devenv: error: {exc.message}", file=sys.stderr)
    if exc.hint:
        print(f"  hint: {exc.hint}", file=sys.stderr)
    return exc.exit_code


def _quiet_stdout() -> None:
    """The reader of a pipe went away: stop Python complaining about it at exit."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
