"""The compose monitor follows the engine's event stream: a ``die``, ``start`` or ``health_status``
re-reads that one component and reports its change at once; health checks' ``exec_*`` events and
an idle engine cost no call; a stop asked for (SIGTERM) is no crash; a dropped stream is reported
and the monitor falls back to a slow poll until the engine answers again.

The Docker client is a small fake here (the real engine's behaviour is covered by
tests/integration/test_faults.py); what is tested is what the monitor does with each event."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from devenv.backends.compose import ComposeBackend, Monitor
from devenv.events import ComponentState, EngineHealth, Event
from devenv.model import load_project

APP = "shop"


def container(cid: str, comp: str, status: str = "running", health: str = "", exit_code: int = 0,
              restarts: int = 0) -> Any:
    state = {"Status": status, "Running": status == "running", "ExitCode": exit_code, "Restarting": False}
    if health:
        state["Health"] = {"Status": health}
    return SimpleNamespace(id=cid, name=f"{APP}-acme-{comp}-1", status=status,
                           labels={"dev.devenv.project": APP, "dev.devenv.tenant": "acme",
                                   "dev.devenv.component": comp},
                           attrs={"State": state, "RestartCount": restarts}, logs=lambda **kw: iter(()))


class Stream:
    """A blocking event stream the test feeds; ``end()`` drops it as a dying engine would."""

    def __init__(self) -> None:
        self.q: queue.Queue[dict[str, Any] | None] = queue.Queue()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while (ev := self.q.get()) is not None:
            yield ev

    def send(self, action: str, comp: str, cid: str = "c-web", **attrs: str) -> None:
        self.q.put({"Type": "container", "Action": action, "Actor": {"ID": cid, "Attributes": {
            "dev.devenv.tenant": "acme", "dev.devenv.component": comp, **attrs}}})

    def end(self) -> None:
        self.q.put(None)

    def close(self) -> None:
        self.end()


class FakeClient:
    def __init__(self) -> None:
        self.current: dict[str, Any] = {"c-web": container("c-web", "web", health="healthy")}
        self.streams: list[Stream] = []
        self.list_calls = 0
        self.down = False
        self.containers = SimpleNamespace(list=self._list)

    def _list(self, all: bool = True, filters: dict[str, Any] | None = None) -> list[Any]:
        if self.down:
            raise ConnectionError("engine gone")
        self.list_calls += 1
        wanted = [f.split("=", 1) for f in (filters or {}).get("label", [])]
        return [c for c in self.current.values() if all and all_match(c, wanted)]

    def events(self, **kw: Any) -> Stream:
        if self.down:
            raise ConnectionError("engine gone")
        self.streams.append(Stream())
        return self.streams[-1]


def all_match(c: Any, wanted: list[list[str]]) -> bool:
    return all(c.labels.get(k) == v for k, v in wanted)


@pytest.fixture
def watched(sample: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Monitor, FakeClient, list[Event]]]:
    project, _ = load_project(sample)
    events: list[Event] = []
    backend = ComposeBackend(project, emit=events.append)
    client = FakeClient()
    backend._client = client
    monkeypatch.setattr(backend, "reconnect", lambda: None)
    monkeypatch.setattr(backend, "event_client", lambda: client)
    mon = Monitor(backend, ["acme"], lambda t, c, line: None, interval=0.05)
    mon.start()
    wait(lambda: client.streams)
    yield mon, client, events
    mon.stop()


def wait(check: Callable[[], Any], timeout: float = 5) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (got := check()):
            return got
        time.sleep(0.01)
    raise AssertionError("timed out")


def states(events: list[Event], comp: str = "web") -> list[str]:
    return [e.state for e in events if isinstance(e, ComponentState) and e.component == comp]


def test_an_idle_session_makes_no_call(watched: tuple[Monitor, FakeClient, list[Event]]) -> None:
    mon, client, _ = watched
    calls = mon.calls
    for _ in range(20):
        client.streams[-1].send("exec_start: test -f /tmp/ready", "web")  # a health check, every second
    time.sleep(0.3)
    assert mon.calls == calls and client.list_calls == 1  # the first full read, nothing since


def test_a_crash_shows_at_once_and_the_restart_after_it(watched: tuple[Monitor, FakeClient, list[Event]]) -> None:
    _, client, events = watched
    client.current["c-web"] = container("c-web", "web", status="exited", exit_code=137)
    client.streams[-1].send("die", "web", exitCode="137")
    wait(lambda: "crashed" in states(events))
    client.current["c-web"] = container("c-web", "web", health="starting", restarts=1)
    client.streams[-1].send("start", "web")
    wait(lambda: states(events)[-1:] == ["starting"])
    client.current["c-web"] = container("c-web", "web", health="healthy", restarts=1)
    client.streams[-1].send("health_status: healthy", "web")
    wait(lambda: states(events)[-1:] == ["healthy"])
    assert states(events) == ["crashed", "starting", "healthy"]


def test_a_stop_asked_for_is_not_a_crash(watched: tuple[Monitor, FakeClient, list[Event]]) -> None:
    _, client, events = watched
    client.streams[-1].send("kill", "web", signal="15")
    client.current["c-web"] = container("c-web", "web", status="exited", exit_code=143)
    client.streams[-1].send("die", "web", exitCode="143")
    wait(lambda: states(events))
    assert states(events) == ["stopped"]


def test_a_dropped_stream_is_reported_then_polled_until_the_engine_is_back(
        watched: tuple[Monitor, FakeClient, list[Event]]) -> None:
    _, client, events = watched
    client.down = True
    client.streams[-1].end()
    wait(lambda: any(isinstance(e, EngineHealth) and not e.ok for e in events))
    time.sleep(0.2)
    client.current["c-web"] = container("c-web", "web", status="exited", exit_code=1)
    client.down = False
    wait(lambda: any(isinstance(e, EngineHealth) and e.ok for e in events))
    wait(lambda: len(client.streams) == 2)  # back on the stream
    assert "crashed" in states(events)  # what happened while it was away, from the catch-up read
    assert threading.active_count() < 50
