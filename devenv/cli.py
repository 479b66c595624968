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
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from devenv import __version__
from devenv.errors import DevenvError


def command_names() -> dict[str, str]:
    """Command name -> module name (``import_`` is ``import``), found without importing any."""
    folder = Path(__file__).resolve().parent / "commands"  # a listing, not pkgutil (~5 ms of imports)
    names = sorted(f[:-3] for f in os.listdir(folder) if f.endswith(".py") and not f.startswith("_"))
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


def _columns() -> int:
    """The terminal's width as ``shutil.get_terminal_size`` finds it ($COLUMNS, then stdout), 80 without one."""
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80


class _Formatter(argparse.HelpFormatter):
    """argparse's formatter, told the width instead of asking ``shutil`` (whose import, with bz2,
    lzma and fnmatch, costs an instant command such as ``status`` a few ms of its start)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position, _columns() - 2 if width is None else width)


class _Parser(argparse.ArgumentParser):
    """Every command's parser formats with ``_Formatter`` too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Formatter)
        super().__init__(*args, **kwargs)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = _Parser(
        prog="devenv",
        description="Run your production's tenants on a laptop. With no command: the terminal UI.",
    )
    parser.add_argument("--version", action="version", version=f"devenv {__version__}")
    parser.add_argument("--root", type=Path, default=None,
                        help="the project directory (default: the nearest one with devenv.yaml)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
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
