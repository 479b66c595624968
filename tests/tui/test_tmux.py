"""The TUI in a real terminal (tmux): it draws, answers keys, and gives the terminal back.

Runs ``python -m tui.demo`` (the scripted engine, no Docker). Set ``DEVENV_TUI_CMD`` to run another
command the same way (e.g. the real ``devenv`` against a sample project).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True, timeout=30).stdout


def wait_for(check: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.2)
    return False


@pytest.fixture
def session() -> object:
    name = f"devenv-tui-{uuid.uuid4().hex[:8]}"
    tmux("new-session", "-d", "-s", name, "-x", "160", "-y", "48", "-c", str(REPO),
         "env", "PS1=READY$ ", "TERM=xterm-256color", "bash", "--norc", "--noprofile")
    yield name
    subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


def test_demo_draws_answers_keys_and_restores_the_terminal(session: str) -> None:
    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", session)

    assert wait_for(lambda: "READY$" in screen())
    cmd = os.environ.get("DEVENV_TUI_CMD") or f"{shlex.quote(sys.executable)} -m tui.demo 0.05"
    tmux("send-keys", "-t", session, cmd, "Enter")
    assert wait_for(lambda: "globex" in screen() and "healthy" in screen()), screen()
    shown = screen()
    for word in ("acme", "globex", "tenants", "timeline", "u up", "d down", "r rebuild", "q quit"):
        assert word in shown, f"{word!r} not on screen:\n{shown}"
    tmux("send-keys", "-t", session, "?")
    assert wait_for(lambda: "devenv: keys" in screen()), screen()
    tmux("send-keys", "-t", session, "Escape")
    assert wait_for(lambda: "devenv: keys" not in screen()), screen()
    tmux("send-keys", "-t", session, "q")
    assert wait_for(lambda: "Leave tenants running? [Y/n]" in screen()), screen()
    tmux("send-keys", "-t", session, "Enter")
    assert wait_for(lambda: "READY$" in screen() and "tenants" not in screen()), screen()
    tmux("send-keys", "-t", session, "echo rc=$?", "Enter")
    assert wait_for(lambda: "rc=0" in screen()), screen()
