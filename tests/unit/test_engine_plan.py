"""The engine acts on the watch plan and decides nothing of its own (issue 16): who is redeployed
comes from the plan, a sync the plan supersedes shows on the timeline, and the files reach the
backend as the planner's own ``SyncFile`` values. No Docker: a recording backend and builder."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from devenv.backends.base import Backend, ComponentStatus, LogSink, Monitor, SyncFile
from devenv.engine.core import Engine
from devenv.events import Event, PendingChanges, TenantState, Timeline
from devenv.model import load_project
from devenv.model.types import TenantSpec


class RecordingBackend(Backend):
    """Every contract method, recording what the engine asked for."""

    name = "recording"

    def __init__(self, project: Any) -> None:
        super().__init__(project)
        self.calls: list[tuple[Any, ...]] = []

    def check(self) -> None: ...
    def up(self, spec: TenantSpec, images: dict[str, str], wait: bool = True, timeout: float = 300) -> None: ...
    def down(self, tenant: str, volumes: bool = False) -> None: ...
    def status(self, tenants: list[str] | None = None) -> list[ComponentStatus]: return []
    def running_tenants(self) -> list[str]: return []
    def logs(self, tenant: str, components: list[str], follow: bool, tail: int, sink: Any) -> None: ...
    def restart(self, tenant: str, component: str) -> None: self.calls.append(("restart", tenant, component))
    def exec(self, tenant: str, component: str, argv: list[str]) -> tuple[int, str]: return 0, ""
    def running_image(self, tenant: str, component: str) -> str: return ""
    def image_created(self, tenant: str, component: str) -> float | None: return None
    def shell_argv(self, tenant: str, component: str) -> list[str]: return ["sh"]
    def monitor(self, tenants: list[str], log_sink: LogSink) -> Monitor: raise NotImplementedError
    def tenants_with_volumes(self) -> list[str]: return []

    def sync(self, tenant: str, component: str, files: list[SyncFile]) -> int:
        self.calls.append(("sync", tenant, component, tuple(files)))
        return 1

    def redeploy(self, spec: TenantSpec, images: dict[str, str], components: list[str], timeout: float = 300) -> None:
        self.calls.append(("redeploy", spec.name, tuple(sorted(components))))


class Builds:
    """A builder whose every build yields a new tag (so every rebuilt image changed)."""

    n = 0

    def __init__(self, project: Any, emit: Any) -> None: ...

    def build(self, images: list[str], cancel: threading.Event, force: bool) -> dict[str, Any]:
        Builds.n += 1
        return {i: SimpleNamespace(ref=f"devenv/shop-{i}:{Builds.n:016d}") for i in images}


def engine_with(sample: Path, tenants: list[str]) -> tuple[Engine, RecordingBackend, list[Event]]:
    project, _ = load_project(sample)
    backend = RecordingBackend(project)
    eng = Engine(project, tenants, backend, builder_factory=Builds, watch=False)
    events: list[Event] = []
    eng.subscribe(events.append)
    for t in tenants:
        eng.emit(TenantState(tenant=t, state="up"))
    return eng, backend, events


def test_a_sync_the_rebuild_supersedes_is_on_the_timeline_and_not_sent(sample: Path) -> None:
    eng, backend, events = engine_with(sample, ["acme", "globex"])
    web = sample / "examples/shop/web"
    asyncio.run(eng.apply_changes({web / "templates/index.html": "modified", web / "requirements.txt": "modified"}))
    said = [e for e in events if isinstance(e, Timeline) and "not synced" in e.message]
    assert len(said) == 1 and "superseded" in said[0].message and "rebuilds" in said[0].message
    assert said[0].files == ("examples/shop/web/templates/index.html",)
    assert not [c for c in backend.calls if c[0] == "sync"]
    assert sorted(c for c in backend.calls if c[0] == "redeploy") == [
        ("redeploy", "acme", ("web",)), ("redeploy", "globex", ("web",))]


def test_a_sync_reaches_the_backend_as_the_planners_sync_files(sample: Path) -> None:
    eng, backend, _ = engine_with(sample, ["acme"])
    page = sample / "examples/shop/web/templates/index.html"
    asyncio.run(eng.apply_changes({page: "modified"}))
    [call] = [c for c in backend.calls if c[0] == "sync"]
    assert call[:3] == ("sync", "acme", "web")
    assert call[3] == (SyncFile(page, "/srv/web/templates/index.html"),)
    assert all(type(f) is SyncFile for f in call[3])


def test_a_rebuild_asked_for_redeploys_what_the_planner_says(sample: Path) -> None:
    eng, backend, _ = engine_with(sample, ["acme", "globex"])
    eng.emit(TenantState(tenant="globex", state="stopped"))  # not active: never redeployed
    asyncio.run(eng.rebuild("api"))
    assert [c for c in backend.calls if c[0] == "redeploy"] == [("redeploy", "acme", ("api",))]


def test_images_specs_and_pending_saves_live_in_the_reducers_state(sample: Path) -> None:
    from devenv.engine.state import SpecsKnown, fold

    eng, _backend, _ = engine_with(sample, ["acme"])
    events: list[Event] = []
    joined = eng.state  # a subscriber starts from the store as it finds it, then folds what follows
    eng.subscribe(events.append)
    eng.emit(PendingChanges(tenant="globex"))  # globex is still starting: saves wait for it
    page = sample / "examples/shop/web/templates/index.html"
    asyncio.run(eng.apply_changes({page: "modified"}))
    assert eng.state.pending == {"globex": (("examples/shop/web/templates/index.html", "modified"),)}
    assert eng.state.pending_files("globex") == ("examples/shop/web/templates/index.html",)
    asyncio.run(eng.rebuild("api"))
    assert eng.state.images["api"].startswith("devenv/shop-api:") and eng.images == eng.state.images
    eng.emit(SpecsKnown(specs=(("globex", eng.specs["acme"]),)))
    assert set(eng.state.specs) == {"acme", "globex"} and eng.specs == eng.state.specs
    asyncio.run(eng._catch_up("globex"))
    assert eng.state.pending == {}
    folded = fold(events, joined)  # a subscriber folding the events sees the engine's own store
    assert (folded.images, folded.pending, set(folded.specs)) == (eng.state.images, {}, {"acme", "globex"})


def test_a_held_save_is_applied_when_its_tenant_is_up(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    eng, backend, _ = engine_with(sample, ["acme"])
    eng.watch_enabled = True

    async def nothing_stale(tenant: str) -> dict[Path, Any]:
        return {}

    monkeypatch.setattr(eng, "_stale_files", nothing_stale)
    eng.emit(PendingChanges(tenant="acme"))
    page = sample / "examples/shop/web/templates/index.html"
    asyncio.run(eng.apply_changes({page: "modified"}))
    assert not [c for c in backend.calls if c[0] == "sync"]  # acme holds it while it starts
    asyncio.run(eng._catch_up("acme"))
    [call] = [c for c in backend.calls if c[0] == "sync"]
    assert call[:3] == ("sync", "acme", "web") and call[3][0].src == page
    assert "acme" not in eng.state.pending


def test_the_spec_action_never_serialises_secret_values(sample: Path) -> None:
    from devenv.engine.state import SpecsKnown

    eng, _backend, _ = engine_with(sample, ["acme"])
    out = SpecsKnown(specs=tuple(eng.specs.items())).to_json()
    assert out["specs"] == {"acme": list(eng.specs["acme"].workloads)}
    assert "secret" not in repr(out)
