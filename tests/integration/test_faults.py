"""Faults devenv must survive, each against the real engine (issue: reliability and security).

Every test runs a tiny synthetic project (one Debian image whose containers loop on ``sleep``), with
its own app name, compose project prefix and port range, and removes exactly what it created:
other people run tests on this engine at the same time, so nothing is pruned and nothing unlabelled
is touched. The module also provides that tiny project to ``test_nothing_lost.py`` and
``test_security.py``.

What Docker really does after ``docker kill``: the engine counts a kill as a user stop, so the
restart policy (``unless-stopped``, devenv's default) does *not* restart the container; a process
that dies on its own inside the container (a crash) *is* restarted. Both are asserted below.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import pytest

from devenv.backends.compose import ComposeBackend
from devenv.engine.core import Engine
from devenv.events import ComponentState, EngineHealth, Event, Timeline
from devenv.model import load_project
from devenv.netutil import port_free
from tests.integration.helpers import PREFIXES, devenv, http, interruptible, project_containers, wait_for

pytestmark = pytest.mark.docker

BASE = "debian:bookworm-slim"
LOOP = "trap 'exit 0' TERM; while true; do sleep 1; done"
LABEL = "dev.devenv.project"


# --- the tiny project ---------------------------------------------------------------------------

@dataclass
class Tiny:
    """A synthetic project: ``web`` (publishes one port) and ``store`` (a named volume)."""

    root: Path
    app: str
    port_base: int
    tenants: list[str] = field(default_factory=lambda: ["acme"])

    def port(self, tenant: str = "acme", component: str = "web") -> int:
        from devenv.model.resolve import resolve

        return resolve(load_project(self.root)[0], tenant, "local").workloads[component].ports[0].host

    def containers(self, tenant: str | None = None) -> list[Any]:
        return project_containers(self.app, tenant)

    def container(self, component: str, tenant: str = "acme") -> Any:
        cs = [c for c in self.containers(tenant) if c.labels["dev.devenv.component"] == component]
        assert len(cs) == 1, [c.name for c in cs]
        return cs[0]


def free_port_base(span: int = 10) -> int:
    """A random range of ``span`` ports, all free now (others' tests use 18000-29999)."""
    for _ in range(200):
        base = random.randrange(32000, 39000, span)
        if all(port_free(p) for p in range(base, base + span)):
            return base
    raise AssertionError("no free port range between 32000 and 39000")


def write_tiny(root: Path, app: str, port_base: int, *, web_cmd: str = LOOP, web_health: str = "",
               dockerfile: str = "", secret: bool = False, tenants: tuple[str, ...] = ("acme",),
               dev_secret: str = "") -> None:
    """Lay out the tiny project. ``web_health`` is a YAML flow mapping for web's ``health``;
    ``secret`` gives every tenant a DATABASE_PASSWORD secret (``dev_secret`` pins its value)."""
    (root / "app").mkdir(parents=True, exist_ok=True)
    (root / "profiles").mkdir(exist_ok=True)
    (root / "app" / "Dockerfile").write_text(dockerfile or f"FROM {BASE}\nCMD {json.dumps(['sh', '-c', LOOP])}\n")
    (root / "app" / ".dockerignore").write_text(".env\n*.env\n")
    health = f"    health: {web_health}\n" if web_health else ""
    (root / "devenv.yaml").write_text(
        f"name: {app}\nport_base: {port_base}\nports_per_tenant: 5\n"
        "images:\n  app: {context: app}\n"
        "components:\n"
        f"  web:\n    image: app\n    command: {json.dumps(web_cmd)}\n"
        "    ports:\n      - {name: http, container: 8000}\n" + health +
        "  store:\n    image: app\n    volumes:\n      - {name: data, target: /data}\n")
    for t in tenants:
        sec = "secrets:\n  - {name: db, key: password, env: DATABASE_PASSWORD}\n" if secret else ""
        (root / "profiles" / f"{t}.yaml").write_text(f"tenant: {t}\nnamespace: tenant-{t}\n{sec}")
    if dev_secret:
        (root / "devenv.local.yaml").write_text(f"defaults:\n  secrets:\n    db: {{password: {dev_secret}}}\n")


def remove_everything_of(app: str) -> None:
    """Only what carries this app's label (and its image tags): never anything else."""
    client = docker.from_env()
    flt = {"label": [f"{LABEL}={app}"]}
    for c in client.containers.list(all=True, filters=flt):
        c.remove(force=True)
    for v in client.volumes.list(filters=flt):
        v.remove(force=True)
    for n in client.networks.list(filters=flt):
        n.remove()
    for img in client.images.list(name=f"devenv/{app}-*"):
        for tag in img.tags:
            if tag.startswith(f"devenv/{app}-"):
                client.images.remove(tag)


@pytest.fixture
def make_tiny(tmp_path: Path, docker_engine: None) -> Iterator[Callable[..., Tiny]]:
    """Factory of tiny projects; each is torn down (devenv down --volumes, then by label)."""
    made: list[Tiny] = []

    def make(**kw: Any) -> Tiny:
        app = f"rel{uuid.uuid4().hex[:8]}"
        root = tmp_path / app
        tenants = kw.get("tenants", ("acme",))
        base = free_port_base(5 * len(tenants))
        write_tiny(root, app, base, **kw)
        PREFIXES[root] = app  # devenv() runs the CLI with DEVENV_PROJECT_PREFIX=<app>
        tiny = Tiny(root, app, base, list(tenants))
        made.append(tiny)
        return tiny

    yield make
    for t in made:
        devenv(t.root, "down", "--volumes", check=False, timeout=120)
        remove_everything_of(t.app)
        PREFIXES.pop(t.root, None)


# --- an in-process engine, as the TUI runs it ---------------------------------------------------

class Running:
    """An ``Engine`` on its own loop thread, recording every event it emits."""

    def __init__(self, root: Path, tenants: list[str]) -> None:
        project, _ = load_project(root)
        self.engine = Engine(project, tenants, ComposeBackend(project), watch=False)
        self.events: list[Event] = []
        self.engine.subscribe(self.events.append)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro: Any, timeout: float = 600) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def of(self, kind: type, pred: Callable[[Any], bool] = lambda e: True) -> list[Any]:
        return [e for e in list(self.events) if isinstance(e, kind) and pred(e)]

    def close(self) -> None:
        self.call(self.engine.stop(leave_running=True), timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


@pytest.fixture
def in_process(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[Tiny], Running]]:
    started: list[Running] = []

    def start(tiny: Tiny) -> Running:
        monkeypatch.setenv("DEVENV_PROJECT_PREFIX", tiny.app)  # the engine resolves project names from it
        r = Running(tiny.root, tiny.tenants)
        started.append(r)
        r.call(r.engine.start())
        return r

    yield start
    for r in started:
        r.close()


def state_events(r: Running, component: str, state: str) -> list[ComponentState]:
    return r.of(ComponentState, lambda e: e.component == component and e.state == state)


# --- a. a component dies --------------------------------------------------------------------------

def test_a_crash_is_reported_and_the_restart_policy_brings_it_back(make_tiny, in_process) -> None:  # type: ignore[no-untyped-def]
    """The main process dies on its own (SIGKILL from outside, as an OOM kill would): the engine
    restarts it (unless-stopped) and devenv reports the crash, then the component running again."""
    tiny = make_tiny()
    r = in_process(tiny)
    web = tiny.container("web")
    n_running = len(state_events(r, "web", "running"))
    os.kill(web.attrs["State"]["Pid"], signal.SIGKILL)
    crash = wait_for(lambda: state_events(r, "web", "crashed"), timeout=30, what="web reported crashed")
    wait_for(lambda: len(state_events(r, "web", "running")) > n_running, timeout=60, what="web running again")
    web.reload()
    assert web.attrs["State"]["Running"] and web.attrs["RestartCount"] >= 1
    assert tiny.container("web").id == web.id  # the same container, restarted by the engine
    assert crash[0].tenant == "acme"
    assert not state_events(r, "store", "crashed")  # nothing else was touched


def test_docker_kill_is_reported_crashed_and_not_restarted_until_up(make_tiny, in_process) -> None:  # type: ignore[no-untyped-def]
    """``docker kill`` counts as a user stop: Docker does not apply the restart policy. devenv
    reports the component crashed (exit 137) and the next ``up`` starts it again."""
    tiny = make_tiny()
    r = in_process(tiny)
    web = tiny.container("web")
    subprocess.run(["docker", "kill", web.name], check=True, capture_output=True, timeout=30)
    wait_for(lambda: state_events(r, "web", "crashed"), timeout=30, what="web reported crashed")
    time.sleep(3)  # give a restart policy every chance to act
    web.reload()
    assert web.attrs["State"]["Status"] == "exited" and web.attrs["State"]["ExitCode"] == 137
    assert web.attrs["RestartCount"] == 0
    r.call(r.engine.up(["acme"]))
    web.reload()
    assert web.attrs["State"]["Running"]
    assert [c.id for c in tiny.containers() if c.labels["dev.devenv.component"] == "web"] == [web.id]
    wait_for(lambda: state_events(r, "web", "running"), timeout=30, what="web running after up")


# --- b. Ctrl+C during a build ------------------------------------------------------------------------

def test_ctrl_c_during_a_build_stops_fast_tags_nothing_and_the_next_build_works(make_tiny) -> None:  # type: ignore[no-untyped-def]
    from devenv.build.graph import compute_tags

    tiny = make_tiny(dockerfile=f"FROM {BASE}\nRUN echo slow && sleep 60\n")
    tag = compute_tags(load_project(tiny.root)[0].app)["app"]
    env = {**os.environ, "DEVENV_ROOT": str(tiny.root), "DEVENV_PROJECT_PREFIX": tiny.app}
    proc = subprocess.Popen([sys.executable, "-m", "devenv.cli", "build"], cwd=tiny.root, env=env, text=True,
                            preexec_fn=interruptible,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stderr is not None
        seen = []
        for line in proc.stderr:
            seen.append(line)
            if "sleep 60" in line:
                break
        assert any("sleep 60" in s for s in seen), "".join(seen)
        time.sleep(0.5)  # inside the RUN step
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=30)
        elapsed = time.monotonic() - t0
        rest = proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 130, rest
    assert elapsed < 10, f"took {elapsed:.1f} s to stop"
    assert "Traceback" not in rest
    assert not docker.from_env().images.list(name=tag), f"{tag} exists after the interrupted build"
    (tiny.root / "app" / "Dockerfile").write_text(f"FROM {BASE}\nRUN echo fast\n")
    devenv(tiny.root, "build", timeout=300)
    new_tag = compute_tags(load_project(tiny.root)[0].app)["app"]
    assert docker.from_env().images.list(name=new_tag)


# --- c. two `devenv up` at once ----------------------------------------------------------------------

def test_two_ups_at_once_never_duplicate_containers(make_tiny) -> None:  # type: ignore[no-untyped-def]
    """The first holds the project lock while it builds and waits for health (web becomes healthy
    only after 4 s), so the second certainly runs into it: it says whom it waits for, then finds
    everything up and creates nothing."""
    tiny = make_tiny(web_cmd=f"sleep 4; touch /tmp/ready; {LOOP}",
                     web_health="{cmd: [test, -f, /tmp/ready], interval: 1, retries: 60}")
    devenv(tiny.root, "build", timeout=300)  # so both start from the same point
    env = {**os.environ, "DEVENV_ROOT": str(tiny.root), "DEVENV_PROJECT_PREFIX": tiny.app}
    argv = [sys.executable, "-m", "devenv.cli", "up", "--detach"]
    procs = [subprocess.Popen(argv, cwd=tiny.root, env=env, text=True, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    codes = [p.returncode for p in procs]
    errs = "\n".join(e for _, e in outs)
    assert "Traceback" not in errs
    waited = [e for _, e in outs if "waiting for pid" in e]
    assert waited, errs  # the second one said whom it waits for
    assert "devenv up acme" in waited[0]
    for code, (_, err) in zip(codes, outs, strict=True):  # each either succeeded or refused clearly
        assert code == 0 or "another devenv is busy with this project" in err, err
    per_component: dict[str, int] = {}
    for c in tiny.containers():
        comp = c.labels["dev.devenv.component"]
        per_component[comp] = per_component.get(comp, 0) + 1
    assert per_component == {"web": 1, "store": 1}


# --- d. a host port already in use ------------------------------------------------------------------

def test_a_held_port_refuses_up_before_anything_starts(make_tiny) -> None:  # type: ignore[no-untyped-def]
    tiny = make_tiny()
    port = tiny.port()
    holder = socket.socket()
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.bind(("127.0.0.1", port))
    holder.listen(1)
    try:
        t0 = time.monotonic()
        cp = devenv(tiny.root, "up", "--detach", check=False, timeout=300)
        assert cp.returncode != 0
        assert time.monotonic() - t0 < 120
        comm = Path(f"/proc/{os.getpid()}/comm").read_text().strip()
        assert str(port) in cp.stderr and f"pid {os.getpid()} ({comm})" in cp.stderr, cp.stderr
        assert "port_base" in cp.stderr  # the fix
        assert "Traceback" not in cp.stderr + cp.stdout
        assert tiny.containers() == [], "something was started although a port was held"
    finally:
        holder.close()
    devenv(tiny.root, "up", "--detach", timeout=300)
    ids = {c.id for c in tiny.containers()}
    devenv(tiny.root, "up", "--detach", timeout=300)  # its own published port is not "in use"
    assert {c.id for c in tiny.containers()} == ids


# --- f. the engine restarts while devenv watches (run alone: it restarts the shared dockerd) -------

def _engine_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def _restart_dockerd() -> None:
    """Stop dockerd and start it again the way scripts/bootstrap.sh does."""
    pid = int(subprocess.run(["pidof", "dockerd"], capture_output=True, text=True, check=True).stdout.split()[0])
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: not Path(f"/proc/{pid}").exists(), timeout=90, interval=0.5, what="dockerd to exit")
    assert not _engine_answers()
    subprocess.run("(setsid dockerd >/var/log/dockerd.log 2>&1 &)", shell=True, check=True)
    wait_for(_engine_answers, timeout=60, interval=0.5, what="`docker info` after the restart")


@pytest.mark.engine_restart
@pytest.mark.slow
def test_engine_restart_is_reported_and_survived(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 docker_engine: None) -> None:
    """Restarts the *shared* Docker engine: run it alone, with DEVENV_ENGINE_RESTART=1."""
    if os.environ.get("DEVENV_ENGINE_RESTART") != "1":
        pytest.skip("restarts the shared dockerd; run alone with DEVENV_ENGINE_RESTART=1 -m engine_restart")
    from tests.conftest import copy_sample
    from tests.integration.helpers import isolate

    app = f"rel{uuid.uuid4().hex[:8]}"
    root = copy_sample(tmp_path / "shop")
    isolate(root, app, free_port_base(60))
    monkeypatch.setenv("DEVENV_PROJECT_PREFIX", app)
    r = Running(root, ["acme"])
    try:
        r.call(r.engine.start())
        url = r.engine.url("acme", "web")
        assert url and http(url)[0] == 200
        before = {c.name for c in project_containers(app)}
        _restart_dockerd()
        down = wait_for(lambda: r.of(EngineHealth, lambda e: not e.ok), timeout=30, what="EngineHealth(ok=False)")
        back = wait_for(lambda: r.of(EngineHealth, lambda e: e.ok and e.ts > down[0].ts), timeout=60,
                        what="EngineHealth(ok=True) after the restart")
        assert back[0].detail == "reconnected"
        assert wait_for(lambda: r.of(Timeline, lambda e: "reconnected" in e.message), timeout=10,
                        what="the reconnected timeline line")
        assert {c.name for c in project_containers(app)} == before  # unless-stopped: all back, none new
        wait_for(lambda: http(url)[0] == 200, timeout=180, what="web served again after the restart")
        assert r.thread.is_alive() and r.engine.state is not None  # and devenv carries on
    finally:
        r.close()
        devenv(root, "down", "--volumes", check=False, env={"DEVENV_PROJECT_PREFIX": app})
        remove_everything_of(app)
        PREFIXES.pop(root, None)
