"""One session entry point (issue 16): the engine every frontend shows comes from
``open_session``, with the project lock, which ``Engine.start`` holds while it builds and deploys,
whatever frontend runs it (the TUI path of ``up`` took none before)."""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

import pytest

from devenv.engine.session import open_session
from devenv.errors import DevenvError
from devenv.events import Event, TenantState
from devenv.lock import project_lock
from devenv.model import load_project
from tests.unit.test_engine_plan import Builds, RecordingBackend


def test_the_session_engine_carries_the_project_lock(sample: Path) -> None:
    project, _ = load_project(sample)
    engine = open_session(project, ["acme"], backend="compose", what="devenv up", watch=False)
    assert engine.lock is not None and engine.backend.name == "compose" and engine.tenants == ["acme"]
    with engine.lock():
        assert (sample / ".devenv" / "lock").read_text().endswith("devenv up acme")


def test_start_waits_for_the_lock_and_refuses_while_another_devenv_holds_it(sample: Path) -> None:
    from devenv.engine.core import Engine

    project, _ = load_project(sample)
    engine = Engine(project, ["acme"], RecordingBackend(project), builder_factory=Builds, watch=False)
    engine.lock = partial(project_lock, sample, "the TUI", wait=0.3)
    seen: list[Event] = []
    engine.subscribe(seen.append)
    with project_lock(sample, "another devenv up"), pytest.raises(DevenvError) as err:
        asyncio.run(engine.start())
    assert "another devenv up" in err.value.message
    assert not [e for e in seen if isinstance(e, TenantState) and e.state == "building"]  # nothing built
