"""The engine's builds without an engine: the default builders share one Docker client (connecting
and pinging anew cost every rebuild before its first step), and a failure other than a build's own
drops it so the next build connects afresh."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from devenv import dockerclient
from devenv.engine.core import Engine
from devenv.errors import BuildError, EngineError
from devenv.model import load_project


class NoBackend:
    name = "none"
    emit: Any = None


class FakeBuilder:
    made: list[FakeBuilder] = []
    fail: BaseException | None = None

    noop = False  # a build whose tags all exist: the real Builder reads over plain HTTP, no SDK client

    def __init__(self, project: Any, emit: Any = None, client: Any = None, client_factory: Any = None) -> None:
        self._client, self.factory = client, client_factory
        FakeBuilder.made.append(self)

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self.factory()
        return self._client

    def build(self, images: list[str], cancel: threading.Event, force: bool) -> dict[str, Any]:
        if not FakeBuilder.noop:
            assert self.client is not None
        if FakeBuilder.fail is not None:
            raise FakeBuilder.fail
        return {i: SimpleNamespace(ref=f"devenv/shop-{i}:{len(FakeBuilder.made):016d}") for i in images}


@pytest.fixture
def engine(sample: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    clients: list[object] = []

    def connect(timeout: float = 10.0) -> object:
        clients.append(object())
        return clients[-1]

    monkeypatch.setattr(dockerclient, "client", connect)
    monkeypatch.setattr("devenv.build.builder.Builder", FakeBuilder)
    FakeBuilder.made, FakeBuilder.fail, FakeBuilder.noop = [], None, False
    eng = Engine(load_project(sample)[0], ["acme"], NoBackend(), watch=False)  # type: ignore[arg-type]
    eng.clients = clients  # type: ignore[attr-defined]
    return eng


def test_builds_share_one_docker_client(engine: Engine) -> None:
    asyncio.run(engine._build({"web"}))
    asyncio.run(engine._build({"api"}))
    assert len(engine.clients) == 1  # type: ignore[attr-defined]
    assert [b.client for b in FakeBuilder.made] == [engine.clients[0]] * 2  # type: ignore[attr-defined]
    assert engine.images["api"] == "devenv/shop-api:0000000000000002"


def test_a_no_op_build_makes_no_sdk_client(engine: Engine) -> None:
    FakeBuilder.noop = True
    asyncio.run(engine._build({"web"}))
    assert engine.clients == []  # type: ignore[attr-defined]
    FakeBuilder.noop = False
    asyncio.run(engine._build({"web"}))
    assert len(engine.clients) == 1  # type: ignore[attr-defined]


def test_a_failed_build_keeps_the_client_and_a_lost_engine_drops_it(engine: Engine) -> None:
    FakeBuilder.fail = BuildError("web", "step 3 failed", [], Path("Dockerfile"), 3)
    with pytest.raises(BuildError):
        asyncio.run(engine._build({"web"}))
    FakeBuilder.fail = EngineError("lost the Docker engine", "")
    with pytest.raises(EngineError):
        asyncio.run(engine._build({"web"}))
    FakeBuilder.fail = None
    asyncio.run(engine._build({"web"}))
    assert len(engine.clients) == 2  # type: ignore[attr-defined]
    assert FakeBuilder.made[-1].client is engine.clients[1]  # type: ignore[attr-defined]


def test_a_custom_builder_factory_gets_no_client(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dockerclient, "client", lambda timeout=10.0: pytest.fail("no client for custom builders"))
    made: list[Any] = []

    def factory(project: Any, emit: Any) -> Any:
        made.append(FakeBuilder(project, emit))
        return made[-1]

    FakeBuilder.made, FakeBuilder.fail, FakeBuilder.noop = [], None, True
    eng = Engine(load_project(sample)[0], ["acme"], NoBackend(), builder_factory=factory, watch=False)  # type: ignore[arg-type]
    asyncio.run(eng._build({"web"}))
    assert made and made[0]._client is None and made[0].factory is None


def test_redeploys_waiting_for_health_do_not_starve_syncs(engine: Engine) -> None:
    """A redeploy holds a thread until its tenant is healthy; with asyncio's default pool (CPUs + 4
    threads) a handful of them queued every other blocking call behind them."""

    async def main() -> float:
        engine._loop = asyncio.get_running_loop()
        engine._ensure_executor()
        release = threading.Event()
        blocked = [asyncio.ensure_future(asyncio.to_thread(release.wait, 30)) for _ in range(16)]
        await asyncio.sleep(0.2)
        t0 = time.monotonic()
        try:
            await asyncio.wait_for(asyncio.to_thread(lambda: None), 5)
        finally:
            release.set()
            await asyncio.gather(*blocked)
        return time.monotonic() - t0

    assert asyncio.run(main()) < 5
