"""Nothing lost: data volumes survive a plain ``down``, teardown touches only what this app
labelled (never another app's tenant, never a look-alike container), and ``.devenv/`` is written
atomically and owner-only. Tiny synthetic projects from ``test_faults``; each cleans up by label."""

from __future__ import annotations

import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest

from tests.integration import test_faults as faults
from tests.integration.helpers import devenv
from tests.integration.test_faults import BASE, Tiny, write_tiny

make_tiny = faults.make_tiny  # the shared fixture

VOLUME_LABELS = ["dev.devenv.project={app}", "dev.devenv.tenant=acme"]


def volumes_of(app: str) -> list[Any]:
    return docker.from_env().volumes.list(filters={"label": [v.format(app=app) for v in VOLUME_LABELS]})


@pytest.fixture
def decoys(docker_engine: None) -> Iterator[list[Any]]:
    """Unlabelled containers (or ones claiming only a compose project) that devenv must never touch."""
    made: list[Any] = []
    yield made
    for c in made:
        c.remove(force=True)


def decoy(decoys: list[Any], name: str, labels: dict[str, str] | None = None) -> Any:
    c = docker.from_env().containers.run(BASE, ["sleep", "300"], name=name, labels=labels or {}, detach=True)
    decoys.append(c)
    return c


@pytest.mark.docker
def test_plain_down_keeps_the_data_and_down_volumes_removes_it(make_tiny) -> None:  # type: ignore[no-untyped-def]
    tiny: Tiny = make_tiny()
    devenv(tiny.root, "up", "--detach", timeout=300)
    code, _ = tiny.container("store").exec_run(["sh", "-c", "echo keep-me > /data/f"])
    assert code == 0
    cp = devenv(tiny.root, "down")
    assert "data volumes kept" in cp.stdout
    assert tiny.containers() == [] and len(volumes_of(tiny.app)) == 1
    devenv(tiny.root, "up", "--detach", timeout=300)
    code, out = tiny.container("store").exec_run(["cat", "/data/f"])
    assert (code, out.decode().strip()) == (0, "keep-me")
    devenv(tiny.root, "down")
    devenv(tiny.root, "down", "--volumes")  # a later --volumes finds the kept volumes without containers
    assert volumes_of(tiny.app) == []


@pytest.mark.docker
def test_down_touches_only_this_apps_tenant(make_tiny, decoys) -> None:  # type: ignore[no-untyped-def]
    mine: Tiny = make_tiny()
    other: Tiny = make_tiny()
    devenv(mine.root, "up", "--detach", timeout=300)
    devenv(other.root, "up", "--detach", timeout=300)
    look_alike = decoy(decoys, f"{mine.app}-acme-web-9")  # compose's naming, no labels at all
    plain = decoy(decoys, f"devenv-decoy-web-{mine.app}")
    squatter = decoy(decoys, f"{mine.app}-squatter", {"com.docker.compose.project": f"{mine.app}-acme",
                                                      "com.docker.compose.service": "zzz",
                                                      "com.docker.compose.oneoff": "False"})
    other_ids = {c.id for c in other.containers()}
    devenv(mine.root, "down", "--tenant", "acme")
    assert mine.containers() == []
    assert {c.id for c in other.containers() if c.status == "running"} == other_ids
    devenv(mine.root, "down")  # no tenant: every tenant of *this* app only
    devenv(mine.root, "down", "--volumes")
    assert {c.id for c in other.containers() if c.status == "running"} == other_ids
    assert len(volumes_of(other.app)) == 1
    for c in (look_alike, plain, squatter):
        c.reload()
        assert c.status == "running", c.name


@pytest.mark.docker
def test_state_dir_is_owner_only_and_rewritten_atomically(make_tiny) -> None:  # type: ignore[no-untyped-def]
    tiny: Tiny = make_tiny(secret=True)
    devenv(tiny.root, "up", "--detach", timeout=300)
    state = tiny.root / ".devenv"
    assert stat.S_IMODE(state.stat().st_mode) == 0o700  # nothing inside is reachable by others
    for rel in ("acme/compose.yaml", "acme/secrets/web.env", "secrets/acme.json", "builds.json", ".gitignore"):
        assert stat.S_IMODE((state / rel).stat().st_mode) == 0o600, rel
    for rel in ("acme", "acme/secrets", "secrets"):
        assert stat.S_IMODE((state / rel).stat().st_mode) == 0o700, rel
    compose = state / "acme" / "compose.yaml"
    inode = compose.stat().st_ino
    devenv(tiny.root, "up", "--detach", timeout=300)
    assert compose.stat().st_ino == inode  # a no-op up leaves an unchanged file alone
    profile = tiny.root / "profiles" / "acme.yaml"
    profile.write_text(profile.read_text() + "env:\n  GREETING: hello\n")
    devenv(tiny.root, "up", "--detach", timeout=300)
    assert "GREETING" in compose.read_text()
    assert compose.stat().st_ino != inode  # a changed file is replaced by a rename, never rewritten in place
    leftovers = [p for p in state.rglob(".*") if p.name != ".gitignore"]
    assert leftovers == [], leftovers  # no temp file left behind


@pytest.mark.docker
def test_every_path_under_the_state_dir_is_owner_only(make_tiny) -> None:  # type: ignore[no-untyped-def]
    tiny: Tiny = make_tiny(secret=True)
    devenv(tiny.root, "up", "--detach", timeout=300)
    loose = [f"{p.relative_to(tiny.root)} {oct(stat.S_IMODE(p.stat().st_mode))}"
             for p in (tiny.root / ".devenv").rglob("*")
             if stat.S_IMODE(p.stat().st_mode) != (0o700 if p.is_dir() else 0o600)]
    assert loose == []


def test_a_write_interrupted_before_the_rename_leaves_the_old_file(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """A crash mid-render (here: the rename fails) keeps the previous compose file whole."""
    from devenv.backends.compose import ComposeBackend
    from devenv.errors import DevenvError
    from devenv.model import load_project
    from devenv.model.resolve import resolve

    root = tmp_path / "proj"
    write_tiny(root, f"rel{uuid.uuid4().hex[:8]}", 39600, secret=True)
    project, _ = load_project(root)
    backend = ComposeBackend(project)
    spec = resolve(project, "acme", "local")
    path = backend.write_files(spec, {"app": "devenv/x-app:1"})
    good = path.read_text()

    def boom(src: str, dst: str) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(DevenvError, match="disk gone"):  # the one writer names the path and the cause
        backend.write_files(spec, {"app": "devenv/x-app:2"})
    assert path.read_text() == good
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".")] == []
