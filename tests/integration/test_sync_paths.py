"""Both sync paths against the real engine: straight into the container's root filesystem (the
default on a local Linux engine) and the engine's archive API (the fallback everywhere else)."""

from __future__ import annotations

import pytest

from devenv.backends.base import SyncFile
from devenv.backends.compose import ComposeBackend
from devenv.model import load_project
from tests.integration.helpers import devenv

pytestmark = [pytest.mark.docker]


@pytest.mark.parametrize("mode", ["auto", "archive"])
def test_sync_copies_new_and_changed_files_and_deletes_removed_ones(make_tiny, tmp_path, monkeypatch, mode) -> None:  # type: ignore[no-untyped-def]
    tiny = make_tiny()
    monkeypatch.setenv("DEVENV_PROJECT_PREFIX", tiny.app)
    monkeypatch.setenv("DEVENV_SYNC", mode)
    devenv(tiny.root, "up", "--detach", timeout=300)
    project, _ = load_project(tiny.root)
    backend = ComposeBackend(project)
    src = tmp_path / "page.html"
    src.write_text(f"synced by {mode}\n")
    assert backend.sync("acme", "web", [SyncFile(src, "/srv/site/deep/page.html")]) == 1
    web = tiny.container("web")
    assert web.exec_run(["cat", "/srv/site/deep/page.html"]).output.decode() == f"synced by {mode}\n"
    src.write_text("changed\n")
    backend.sync("acme", "web", [SyncFile(src, "/srv/site/deep/page.html")])
    assert web.exec_run(["cat", "/srv/site/deep/page.html"]).output.decode() == "changed\n"
    backend.sync("acme", "web", [SyncFile(None, "/srv/site/deep")])
    assert web.exec_run(["ls", "/srv/site"]).output.decode().strip() == ""
