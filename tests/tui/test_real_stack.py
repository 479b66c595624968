"""The TUI against the real thing: a real compose stack on the real engine, driven by Pilot, and
the real ``devenv`` binary in a real terminal (tmux). The faster Pilot tests use a scripted engine;
these prove the same paths end to end on a tiny synthetic project."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from devenv.backends.compose import ComposeBackend
from devenv.engine.core import Engine
from devenv.model import load_project
from tests.integration.helpers import project_containers
from tests.integration.test_faults import free_port_base, remove_everything_of, write_tiny
from tests.tui.test_tmux import tmux, wait_for
from tui.app import DevenvApp

pytestmark = [pytest.mark.docker]
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, docker_engine: None):  # type: ignore[no-untyped-def]
    app = f"tui{uuid.uuid4().hex[:8]}"
    root = tmp_path / app
    write_tiny(root, app, free_port_base(5))
    monkeypatch.setenv("DEVENV_PROJECT_PREFIX", app)
    monkeypatch.setenv("DEVENV_ROOT", str(root))
    yield root, app
    remove_everything_of(app)


def running(app: str) -> set[str]:
    return {c.labels["dev.devenv.component"] for c in project_containers(app) if c.status == "running"}


async def test_pilot_drives_a_real_stack_through_a_rebuild_and_quits_leaving_it_running(tiny) -> None:  # type: ignore[no-untyped-def]
    root, app = tiny
    project, _ = load_project(root)
    engine = Engine(project, ["acme"], ComposeBackend(project), watch=True)
    tui = DevenvApp(engine)
    async with tui.run_test(size=(160, 48)) as pilot:
        for _ in range(3000):
            await pilot.pause(0.1)
            if engine.state.watching and engine.state.tenants.get("acme") and engine.state.tenants["acme"].state == "up":
                break
        assert engine.state.tenants["acme"].state == "up", engine.state.tenants
        screen = tui.export_screenshot()
        assert "acme" in screen and "web" in screen and "store" in screen
        (root / "app" / "added.txt").write_text("a file no sync rule covers: rebuild\n")
        for _ in range(3000):
            await pilot.pause(0.1)
            if any(t.kind == "redeploy" for t in engine.state.timeline):
                break
        kinds = [t.kind for t in engine.state.timeline]
        assert "rebuild" in kinds and "redeploy" in kinds, engine.state.timeline
        await pilot.pause(0.3)
        assert "redeployed" in tui.export_screenshot()  # the timeline pane shows why and what
        await pilot.press("q")
        await pilot.pause(0.2)
        await pilot.press("enter")  # "leave tenants running?" -> yes (the default)
        for _ in range(100):
            await pilot.pause(0.1)
            if not tui.is_running:
                break
    assert running(app) == {"web", "store"}


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed (scripts/test.sh installs it)")
def test_the_real_devenv_binary_in_a_terminal(tiny) -> None:  # type: ignore[no-untyped-def]
    root, app = tiny
    name = f"devenv-real-{uuid.uuid4().hex[:8]}"
    env = {"DEVENV_ROOT": str(root), "DEVENV_PROJECT_PREFIX": app, "PS1": "READY$ ", "TERM": "xterm-256color",
           "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    tmux("new-session", "-d", "-s", name, "-x", "160", "-y", "48", "-c", str(root),
         "env", *[f"{k}={v}" for k, v in env.items()], "bash", "--norc", "--noprofile")
    try:
        def screen() -> str:
            return tmux("capture-pane", "-p", "-t", name)

        assert wait_for(lambda: "READY$" in screen())
        devenv = shlex.quote(str(Path(sys.executable).parent / "devenv"))
        tmux("send-keys", "-t", name, f"{devenv} up --tenant acme", "Enter")
        assert wait_for(lambda: re.search(r"watching \d", screen()) is not None and "store" in screen(),
                        timeout=300), screen()
        shown = screen()
        for word in ("acme", "web", "store", "q quit"):
            assert word in shown, f"{word!r} not on screen:\n{shown}"
        tmux("send-keys", "-t", name, "q")
        assert wait_for(lambda: "Leave tenants running? [Y/n]" in screen()), screen()
        tmux("send-keys", "-t", name, "Enter")
        assert wait_for(lambda: screen().count("READY$") >= 2 and "tenants" not in screen(), 60), screen()
        tmux("send-keys", "-t", name, "echo rc=$?", "Enter")
        assert wait_for(lambda: "rc=0" in screen()), screen()
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
    assert running(app) == {"web", "store"}
