"""A live update inferred from the Dockerfile, against the real engine: a file only the Dockerfile's
trailing ``COPY`` takes in reaches the running container (restarted, not recreated) with no watch
rule; the image is built behind it; ``devenv status`` says the container runs synced content until
the next ``devenv up`` recreates it on that image, which then holds the file.

One tiny project (Debian, no ``RUN``: the builds take a second), its own app name, compose prefix
and free ports; it removes exactly what it created (``make_tiny``)."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

import pytest

from devenv.backends.compose import ComposeBackend
from devenv.engine.core import Engine
from devenv.events import Event, Timeline
from devenv.model import load_project
from tests.integration.helpers import devenv, wait_for
from tests.integration.test_faults import BASE, LOOP, Tiny  # make_tiny comes from conftest.py

pytestmark = [pytest.mark.docker, pytest.mark.slow]
DOCKERFILE = f"FROM {BASE}\nWORKDIR /srv\nCOPY static ./static\nCMD {json.dumps(['sh', '-c', LOOP])}\n"


class Watching:
    """The engine in-process, watching, on its own loop thread."""

    def __init__(self, root: Path) -> None:
        project, _ = load_project(root)
        self.engine = Engine(project, ["acme"], ComposeBackend(project), watch=True)
        self.events: list[Event] = []
        self.engine.subscribe(self.events.append)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self.engine.start(), self.loop).result(600)

    def timeline(self, kind: str, text: str = "", component: str = "") -> list[Timeline]:
        return [e for e in list(self.events) if isinstance(e, Timeline) and kind in (e.kind, "") and text in e.message
                and component in (e.component, "")]

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.engine.stop(leave_running=True), self.loop).result(60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def cat(container: Any, path: str) -> str:
    code, out = container.exec_run(["cat", path])
    return out.decode() if code == 0 else f"(exit {code})"


def test_a_tail_only_edit_is_synced_and_restarted_and_the_image_follows(make_tiny, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    tiny: Tiny = make_tiny(dockerfile=DOCKERFILE)
    (tiny.root / "app" / "static").mkdir()
    version = tiny.root / "app" / "static" / "version.txt"
    version.write_text("one\n")
    monkeypatch.setenv("DEVENV_PROJECT_PREFIX", tiny.app)
    w = Watching(tiny.root)
    try:
        web = tiny.container("web")
        started = web.attrs["State"]["StartedAt"]
        assert cat(web, "/srv/static/version.txt") == "one\n"
        version.write_text("two\n")
        [sync] = wait_for(lambda: w.timeline("sync", component="web") or None, timeout=60,
                          what=f"the live update; timeline: {[e.text() for e in w.timeline('')]}")
        assert "live update inferred from Dockerfile:3 COPY static ./static" in sync.message
        assert "restarted, no recreate" in sync.message
        web2 = tiny.container("web")
        assert web2.id == web.id and cat(web2, "/srv/static/version.txt") == "two\n"
        assert web2.attrs["State"]["StartedAt"] != started  # the process restarted
        wait_for(lambda: w.timeline("build", "behind the live update"), timeout=120, what="the background build")
        built = w.engine.images["app"]
        assert web2.attrs["Config"]["Image"] != built  # still the old image, with the synced file
    finally:
        w.close()
    status = json.loads(devenv(tiny.root, "status", "--json", "--tenant", "acme").stdout)
    synced = {r["component"]: r["synced"] for r in status}
    assert "synced 1 file(s) live (Dockerfile:3 COPY static ./static)" in synced["web"]
    assert built in synced["web"]
    devenv(tiny.root, "up", "--tenant", "acme", "--detach")
    web3 = tiny.container("web")
    assert web3.id != web.id and web3.attrs["Config"]["Image"] == built  # exact: the image holds it
    assert cat(web3, "/srv/static/version.txt") == "two\n"
    status = json.loads(devenv(tiny.root, "status", "--json", "--tenant", "acme").stdout)
    assert all(r["synced"] == "" for r in status)
