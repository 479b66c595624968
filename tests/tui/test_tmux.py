"""The TUI in a real terminal (tmux): it draws, answers keys, and gives the terminal back.

Runs ``python -m tui.demo`` (the scripted engine, no Docker). Set ``DEVENV_TUI_CMD`` to run another
command the same way (e.g. the real ``devenv`` against a sample project).
"""

from __future__ import annotations

import json
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


def test_the_real_binary_shows_the_newest_save_logs_every_sync_and_starts_any_tenant(
        tmp_path: Path, docker_engine: None) -> None:
    """The real ``devenv`` at a laptop's 100x30 on a tiny two-tenant project: after a burst of
    saves the newest sync is on screen, ``devenv events --json`` lists every one with its file, and
    the tenant this session did not start comes up with ``u``."""
    from tests.integration.test_faults import BASE, LOOP, free_port_base, remove_everything_of, write_tiny

    app = f"tmx{uuid.uuid4().hex[:8]}"
    root = tmp_path / app
    write_tiny(root, app, free_port_base(10), tenants=("acme", "globex"),
               dockerfile=f"FROM {BASE}\nCOPY site /site\nCMD [\"sh\", \"-c\", \"{LOOP}\"]\n")
    (root / "app" / "site").mkdir()
    (root / "app" / "site" / "index.html").write_text("hello\n")
    rule = "    watch:\n      - {path: app/site, action: sync, target: /site}\n"
    yaml = root / "devenv.yaml"
    text = yaml.read_text().replace("    ports:\n      - {name: http, container: 8000}\n",
                                    "    ports:\n      - {name: http, container: 8000}\n" + rule, 1)
    yaml.write_text(text.replace("  store:\n    image: app\n", "  store:\n    image: app\n" + rule, 1))
    env = {**os.environ, "DEVENV_ROOT": str(root), "DEVENV_PROJECT_PREFIX": app, "NO_COLOR": "1"}
    name = f"devenv-saves-{uuid.uuid4().hex[:8]}"
    shell_env = [f"{k}={env[k]}" for k in ("DEVENV_ROOT", "DEVENV_PROJECT_PREFIX")]
    tmux("new-session", "-d", "-s", name, "-x", "100", "-y", "30", "-c", str(root), "env", *shell_env,
         "PS1=READY$ ", "TERM=xterm-256color", f"PATH={Path(sys.executable).parent}:{os.environ['PATH']}",
         "bash", "--norc", "--noprofile")

    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", name)

    try:
        assert wait_for(lambda: "READY$" in screen())
        tmux("send-keys", "-t", name, "devenv up --tenant acme", "Enter")
        assert wait_for(lambda: "watching" in screen() and "acme  ✓ healthy" in screen(), 300), screen()
        assert "globex" in screen()  # not in this session, still in the tree
        for i in range(6):
            (root / "app" / "site" / f"page{i}.html").write_text(f"save {i}\n")
            time.sleep(0.4)
        assert wait_for(lambda: "[page5.html]" in screen(), 60), screen()
        tmux("send-keys", "-t", name, "t")  # the next tenant: globex, never started
        tmux("send-keys", "-t", name, "u")
        assert wait_for(lambda: "globex  ✓ healthy" in screen(), 300), screen()
        tmux("send-keys", "-t", name, "q")
        assert wait_for(lambda: "Leave tenants running? [Y/n]" in screen()), screen()
        tmux("send-keys", "-t", name, "n")
        assert wait_for(lambda: screen().count("READY$") >= 2, 120), screen()
        out = subprocess.run([sys.executable, "-m", "devenv.cli", "events", "--json"], cwd=root, env=env,
                             capture_output=True, text=True, timeout=60, check=True).stdout
        synced = {f for line in out.splitlines() if (rec := json.loads(line))["kind"] == "sync"
                  for f in rec["files"]}
        assert {f"app/site/page{i}.html" for i in range(6)} <= synced, out
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
        remove_everything_of(app)
