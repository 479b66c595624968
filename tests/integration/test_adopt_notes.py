"""Issue 13 end to end: a plain compose project (``examples/notes``) adopted with ``devenv init
--from-compose`` runs under the real ``devenv up`` with its watch loop.

One lean pass against the real engine, in its own app name, compose project prefix and free port
range: ``up`` with the optional registry-only service enabled stops before starting anything and
says how to provide the image; then ``up`` runs web, worker and Redis (a note posted to web is filed
by the worker through Redis); a template saved under the bind mount's sync rule shows at once; a
change no rule covers (``web/VERSION``) rebuilds web and recreates it; ``down --volumes`` leaves
nothing of the app behind.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.integration.helpers import PREFIXES, devenv, http, interruptible, project_containers, wait_for
from tests.integration.test_faults import free_port_base, remove_everything_of

EXAMPLE = REPO / "examples" / "notes"


@pytest.fixture
def notes(tmp_path: Path, docker_engine: None):  # type: ignore[no-untyped-def]
    app = f"notes{uuid.uuid4().hex[:8]}"
    root = tmp_path / app
    shutil.copytree(EXAMPLE, root)
    PREFIXES[root] = app
    yield root, app
    devenv(root, "down", "--tenant", "acme", "--volumes", check=False, timeout=120)
    remove_everything_of(app)
    PREFIXES.pop(root, None)


def adopt(root: Path, app: str) -> int:
    init = devenv(root, "init", "--from-compose", ".", "--tenant", "acme")
    assert "services.insight.profiles: optional (compose profile tools)" in init.stderr
    base = free_port_base(20)
    text = (root / "devenv.yaml").read_text()
    (root / "devenv.yaml").write_text(text.replace("name: notes", f"name: {app}", 1)
                                      .replace("port_base: 18000", f"port_base: {base}", 1))
    devenv(root, "validate")
    return base


@pytest.mark.docker
def test_an_adopted_compose_project_runs_syncs_rebuilds_and_goes(notes) -> None:  # type: ignore[no-untyped-def]
    root, app = notes
    base = adopt(root, app)

    (root / "devenv.personal.yaml").write_text("defaults:\n  disable: []\n")  # run the `tools` profile too
    cp = devenv(root, "up", "--tenant", "acme", "--detach", "--no-tui", check=False, timeout=120)
    assert cp.returncode == 1
    assert "insight: redis/redisinsight:2.50" in cp.stderr and "docker load -i image.tar" in cp.stderr
    assert project_containers(app) == []  # stopped first: nothing was started
    (root / "devenv.personal.yaml").unlink()

    log = root.parent / "up.log"  # a file, not a pipe: a pipe nobody drains would block the CLI
    up = subprocess.Popen([sys.executable, "-m", "devenv.cli", "up", "--tenant", "acme", "--no-tui"], cwd=root,
                          preexec_fn=interruptible,
                          env={**os.environ, "DEVENV_ROOT": str(root), "DEVENV_PROJECT_PREFIX": app, "NO_COLOR": "1"},
                          stdout=log.open("w"), stderr=subprocess.STDOUT, text=True)
    try:
        exercise(root, f"http://127.0.0.1:{base}/", log)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- devenv up's output (tail) ---\n{log.read_text()[-4000:]}") from None
    finally:
        stop(up)
    out = log.read_text()
    assert "synced 1 file(s) [index.html]" in out, out[-3000:]
    # VERSION: a rebuild of web (or the live update inferred from the Dockerfile's COPY tail, which
    # also builds the image behind it)
    assert web_built_after_sync(out), out[-3000:]

    devenv(root, "down", "--tenant", "acme", "--volumes", timeout=120)
    assert project_containers(app) == []


def web_built_after_sync(out: str) -> bool:
    after = out.split("synced 1 file(s) [index.html]", 1)[-1] if "synced 1 file(s) [index.html]" in out else ""
    return "-> rebuilding web" in after or "web: built devenv/" in after


def exercise(root: Path, url: str, log: Path) -> None:
    wait_for(lambda: "devenv: watching" in log.read_text(), timeout=600, interval=0.5, what="every component healthy")
    assert http(url + "notes", {"text": "buy milk"})[0] == 202
    wait_for(lambda: "BUY MILK" in http(url)[1], timeout=60, what="the worker filing the note through redis")

    page = root / "web" / "templates" / "index.html"
    page.write_text(page.read_text().replace("<h1>Notes</h1>", "<h1>Synced notes</h1>"))
    wait_for(lambda: "Synced notes" in http(url)[1], timeout=60, what="the template synced into web")

    (root / "web" / "VERSION").write_text("2.0\n")
    wait_for(lambda: "version 2.0" in http(url)[1], timeout=300, interval=0.5, what="web rebuilt with VERSION 2.0")
    # a live update builds the image behind it once the restarted app has started: wait for that build
    wait_for(lambda: web_built_after_sync(log.read_text()), timeout=120, interval=0.5,
             what="web's image built (a rebuild, or behind the live update)")
    assert "BUY MILK" in http(url)[1]  # redis's volume and the worker carried on


def stop(up: subprocess.Popen[str]) -> None:
    """Ctrl+C, as a user would; a CLI still starting may need SIGTERM."""
    up.send_signal(signal.SIGINT)
    try:
        up.wait(timeout=30)
    except subprocess.TimeoutExpired:
        up.terminate()
        up.wait(timeout=30)
