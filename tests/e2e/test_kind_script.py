"""The kind end-to-end script parses, and skips cleanly (exit 0) where kind is absent.

The flow itself needs kind and runs on a laptop (``tests/e2e/kind.sh``); this keeps the script from
rotting unnoticed on machines without kind."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("kind.sh")


def test_script_parses() -> None:
    subprocess.run(["bash", "-n", str(SCRIPT)], check=True)


def test_script_skips_without_kind(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for tool in ("bash", "dirname", "sed"):  # a PATH with the basics and without kind
        found = shutil.which(tool)
        if found:
            (bindir / tool).symlink_to(found)
    env = {**os.environ, "PATH": str(bindir)}
    if shutil.which("kind", path=env["PATH"]):
        pytest.skip("kind is on this PATH")
    res = subprocess.run([str(bindir / "bash"), str(SCRIPT)], capture_output=True, text=True, env=env, timeout=30)
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("SKIP: kind not found")
