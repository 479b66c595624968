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


def function_lengths() -> list[tuple[int, str]]:
    """(lines from ``def`` to the last line, where) of every function of the core and the TUI."""
    import ast

    out = []
    for folder in ("devenv", "tui"):
        for path in sorted((REPO / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    where = f"{path.relative_to(REPO)}:{node.lineno} {node.name}"
                    out.append(((node.end_lineno or node.lineno) - node.lineno + 1, where))
    return out


def test_functions_stay_short() -> None:
    """The habit issue 16 asks to keep: median under 10 lines, none over 70."""
    import statistics

    lengths = function_lengths()
    assert len(lengths) > 1000  # the walk found the code
    assert statistics.median(n for n, _ in lengths) < 10
    assert [w for n, w in lengths if n > 70] == []
