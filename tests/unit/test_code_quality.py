"""The code stays lint-clean and type-checked (ruff; strict mypy on devenv/ and tui/, per pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", *argv], cwd=REPO, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing() -> None:
    cp = run("ruff", "check", "--quiet", ".")
    assert cp.returncode == 0, cp.stdout + cp.stderr


def test_mypy_finds_nothing_in_the_core_and_the_tui() -> None:
    cp = run("mypy")
    assert cp.returncode == 0, cp.stdout + cp.stderr
