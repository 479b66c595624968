"""The core never imports Textual: only tui/ may (DESIGN.md, "Imports flow one way")."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

import devenv

REPO = Path(__file__).resolve().parents[2]


def core_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.walk_packages(devenv.__path__, "devenv."))


def test_core_does_not_import_textual() -> None:
    mods = core_modules()
    assert "devenv.cli" in mods and "devenv.engine.state" in mods
    code = (
        "import importlib, sys\n"
        f"for m in {mods!r}:\n"
        "    importlib.import_module(m)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.') or m == 'tui')\n"
        "assert not bad, bad\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_tui_imports_without_starting_anything() -> None:
    proc = subprocess.run([sys.executable, "-c", "import tui; from tui.app import DevenvApp"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
