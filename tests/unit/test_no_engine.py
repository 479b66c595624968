"""No engine, or a hung one: every command says how to start Docker within seconds, never a
traceback or a hang. Docker-free (the engine is pointed at a missing or silent socket), so these
run in the fast suite (they were marked ``docker`` with the fault tests before)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests.integration.test_faults import write_tiny


@pytest.mark.parametrize("args", [("up", "--detach"), ("status",), ("down",), ("build",), ("logs",)])
def test_no_engine_says_how_to_start_it_within_seconds(tmp_path: Path, args: tuple[str, ...]) -> None:
    root = tmp_path / "proj"
    write_tiny(root, f"rel{uuid.uuid4().hex[:8]}", 39500)
    env = {**os.environ, "DEVENV_ROOT": str(root), "DOCKER_HOST": "unix:///tmp/nonexistent.sock"}
    t0 = time.monotonic()
    cp = subprocess.run([sys.executable, "-m", "devenv.cli", *args], cwd=root, env=env, capture_output=True,
                        text=True, timeout=60)
    assert time.monotonic() - t0 < 15
    assert cp.returncode != 0
    assert "Docker engine" in cp.stderr, cp.stderr
    assert "hint:" in cp.stderr and ("start" in cp.stderr.split("hint:", 1)[1].lower())
    assert "Traceback" not in cp.stderr + cp.stdout
    assert not (root / ".devenv" / "acme" / "compose.yaml").exists()


def test_an_engine_that_accepts_but_never_answers_times_out_with_the_hint(tmp_path: Path) -> None:
    """A hung engine (socket open, no reply) must not hang devenv either."""
    root = tmp_path / "proj"
    write_tiny(root, f"rel{uuid.uuid4().hex[:8]}", 39500)
    sock_path = tmp_path / "hung.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(sock_path))
    server.listen(8)
    try:
        env = {**os.environ, "DEVENV_ROOT": str(root), "DOCKER_HOST": f"unix://{sock_path}"}
        t0 = time.monotonic()
        cp = subprocess.run([sys.executable, "-m", "devenv.cli", "status"], cwd=root, env=env,
                            capture_output=True, text=True, timeout=60)
        assert time.monotonic() - t0 < 15
    finally:
        server.close()
    assert cp.returncode != 0 and "Docker engine" in cp.stderr and "hint:" in cp.stderr, cp.stderr
    assert "Traceback" not in cp.stderr
