"""One contract, both backends: every capability the engine uses (``devenv.backends.base``),
checked with the same assertions against compose (the real engine, one tiny tenant brought up once)
and kind (through the ``FakeRunner``, answering as a cluster with one running tenant would).

Each backend gets a ``Harness``: the backend, a running component and its built image, a component
that is not running, and how to make the running one restart. The tests below only speak the
contract; what differs between the backends lives in the two harness builders.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from devenv.backends.base import SHELL, Backend, SyncFile
from devenv.backends.kind import REGISTRY_HOST, KindBackend
from devenv.errors import DevenvError
from devenv.events import ComponentState, Event
from devenv.model import load_project
from tests.contract.fakerunner import FakeRunner

CREATED = "2026-12-01T23:00:00.123456789Z"


@dataclass
class Harness:
    backend: Backend
    tenant: str
    running: str  # a component that runs, built from source
    absent: str  # a component that does not run
    built_ref: str  # the builder's reference of ``running``'s image
    cli: str  # the command line tool the shell opens with
    crash: Callable[[], None]  # make ``running`` crash (really, or as the fake cluster reports it)
    events: list[Event] = field(default_factory=list)


# -- kind: the fake cluster -------------------------------------------------------------------------

def pod(name: str, restarts: int, ready: bool = True) -> dict[str, Any]:
    labels = {"dev.devenv.tenant": "acme", "dev.devenv.component": "web", "app.kubernetes.io/name": "web"}
    status = {"ready": ready, "restartCount": restarts, "state": {"running": {}}}
    return {"kind": "Pod", "metadata": {"name": name, "namespace": "tenant-acme", "labels": labels},
            "spec": {"containers": [{"name": "web", "readinessProbe": {}}]},
            "status": {"phase": "Running", "containerStatuses": [status]}}


def kind_harness(sample: Path) -> Harness:
    project, _ = load_project(sample)
    ref = "devenv/shop-web:0123456789abcdef"
    fake = FakeRunner()
    fake.on("kubectl", "get", "deployment/web", stdout=f"{REGISTRY_HOST}/{ref}")
    fake.on("kubectl", "get", "deployment/ghost", code=1, stderr='deployments.apps "ghost" not found')
    fake.on("docker", "image", "inspect", "{{.Created}}", ref, stdout=CREATED + "\n")
    fake.on("kubectl", "get", "pods", "app.kubernetes.io/instance=acme,app.kubernetes.io/name=web", stdout="web-5d9c-abcde")
    fake.on("kubectl", "exec", "web-5d9c-abcde", stdout="hello\n")
    fake.on("kubectl", "exec", "deployment/web", stdout="hello\n")
    watch = "\n".join(json.dumps(p, indent=4) for p in (pod("web-5d9c-abcde", 0), pod("web-5d9c-abcde", 1)))
    h = Harness(KindBackend(project, runner=fake), "acme", "web", "ghost", ref, "kubectl", crash=lambda: None)
    fake.on("kubectl", "get", "pods", "--watch", stdout=watch)  # what the cluster says once web crashed
    h.backend.emit = h.events.append
    return h


# -- compose: the real engine -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def compose_tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One tiny project with tenant acme up on the real engine, for every compose test here."""
    from tests.integration.helpers import PREFIXES, devenv
    from tests.integration.test_faults import Tiny, free_port_base, remove_everything_of, write_tiny

    app = f"ctr{uuid.uuid4().hex[:8]}"
    root = tmp_path_factory.mktemp("contract") / app
    base = free_port_base(5)
    write_tiny(root, app, base)
    PREFIXES[root] = app
    try:
        devenv(root, "up", "--tenant", "acme", "--no-tui", "--detach", "--timeout", "120")
        yield Tiny(root, app, base)
    finally:
        devenv(root, "down", "--volumes", check=False, timeout=120)
        remove_everything_of(app)
        PREFIXES.pop(root, None)


def compose_harness(request: pytest.FixtureRequest) -> Harness:
    from devenv.backends.compose import ComposeBackend
    from devenv.build.builder import read_records

    request.getfixturevalue("docker_engine")
    tiny = request.getfixturevalue("compose_tenant")
    request.getfixturevalue("monkeypatch").setenv("DEVENV_PROJECT_PREFIX", tiny.app)
    backend = ComposeBackend(load_project(tiny.root)[0])
    h = Harness(backend, "acme", "web", "ghost", read_records(tiny.root)["app"]["ref"], "docker",
                crash=lambda: tiny.container("web").kill())  # SIGKILL: its restart policy brings it back
    backend.emit = h.events.append
    return h


@pytest.fixture(params=["kind", pytest.param("compose", marks=[pytest.mark.docker, pytest.mark.slow])],
                scope="function")
def h(request: pytest.FixtureRequest, sample: Path) -> Iterator[Harness]:
    yield kind_harness(sample) if request.param == "kind" else compose_harness(request)


# -- the contract ----------------------------------------------------------------------------------

def test_capability_flags_are_messages(h: Harness) -> None:
    for flag in ("cluster_unsupported", "data_unsupported"):
        assert isinstance(getattr(h.backend, flag), str)


def test_running_image_is_the_builders_reference(h: Harness) -> None:
    assert h.backend.running_image(h.tenant, h.running) == h.built_ref
    assert h.backend.running_image(h.tenant, h.absent) == ""


def test_image_created_dates_the_running_image(h: Harness) -> None:
    created = h.backend.image_created(h.tenant, h.running)
    assert created is not None and 1_700_000_000 < created <= time.time()
    assert h.backend.image_created(h.tenant, h.absent) is None


def test_shell_opens_in_the_running_component_and_refuses_an_absent_one(h: Harness) -> None:
    argv = h.backend.shell_argv(h.tenant, h.running)
    assert argv[0] == h.cli and "exec" in argv and "-it" in argv
    assert argv[-3:] == ["sh", "-c", SHELL]
    with pytest.raises(DevenvError) as err:
        h.backend.shell_argv(h.tenant, h.absent)
    assert h.tenant in err.value.message and h.absent in err.value.message and err.value.hint


def test_exec_returns_code_and_output(h: Harness) -> None:
    assert h.backend.exec(h.tenant, h.running, ["echo", "hello"]) == (0, "hello\n")


def test_sync_reaches_the_running_component(h: Harness, tmp_path: Path) -> None:
    src = tmp_path / "note.txt"
    src.write_text("synced\n")
    assert h.backend.sync(h.tenant, h.running, [SyncFile(src, "/tmp/devenv-contract-note.txt")]) >= 1


def test_the_monitor_reports_a_crash(h: Harness) -> None:
    got: list[tuple[str, str, str]] = []
    mon = h.backend.monitor([h.tenant], lambda t, c, line: got.append((t, c, line)))
    assert mon.tenants == {h.tenant}
    mon.start()
    try:
        time.sleep(0.5)
        h.crash()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _crashed(h):
            time.sleep(0.1)
    finally:
        mon.stop()
    assert _crashed(h), h.events


def _crashed(h: Harness) -> bool:
    return any(isinstance(e, ComponentState) and e.component == h.running and e.state == "crashed" for e in h.events)
