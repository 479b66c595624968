"""The builder against the real engine, on a tiny synthetic project (base + two children).

Every test uses its own app name, so its images are ``devenv/<unique>-*``; the fixture removes
exactly those afterwards (other people share this engine: nothing else is ever removed)."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devenv.build.builder import BuildCancelled, Builder, read_records
from devenv.errors import BuildError
from devenv.events import BuildFinished, BuildStarted, Event
from devenv.model.types import App, ImageDef
from tests.integration.helpers import interruptible

pytestmark = pytest.mark.docker

BASE = "debian:bookworm-slim"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def make_app(root: Path, name: str) -> App:
    write(root / "base" / "Dockerfile", f"FROM {BASE}\nCOPY lib /opt/lib\nRUN echo base\n")
    write(root / "base" / "lib" / "a.txt", "lib v1\n")
    for child in ("one", "two"):
        write(root / child / "Dockerfile", "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY . /app\nRUN echo " + child + "\n")
        write(root / child / ".dockerignore", "*.log\n")
        write(root / child / "src" / "main.txt", f"{child} v1\n")
    images = {
        "base": ImageDef("base", root / "base", root / "base" / "Dockerfile"),
        "one": ImageDef("one", root / "one", root / "one" / "Dockerfile", parent="base"),
        "two": ImageDef("two", root / "two", root / "two" / "Dockerfile", parent="base"),
    }
    return App(name, root, root / "devenv.yaml", images, {})


class Recorder:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.lock = threading.Lock()

    def __call__(self, ev: Event) -> None:
        with self.lock:
            self.events.append(ev)

    def started(self) -> list[str]:
        return sorted(e.image for e in self.events if isinstance(e, BuildStarted))

    def clear(self) -> None:
        self.events.clear()


@pytest.fixture
def client(docker_engine: None) -> Any:
    import docker

    return docker.from_env()


@pytest.fixture
def app(tmp_path: Path, client: Any) -> Iterator[App]:
    name = f"t{uuid.uuid4().hex[:10]}"
    yield make_app(tmp_path / "proj", name)
    for img in client.images.list(name=f"devenv/{name}-*"):
        for tag in img.tags:
            if tag.startswith(f"devenv/{name}-"):
                client.images.remove(tag, noprune=False)


def tags_of(client: Any, app: App) -> list[str]:
    return sorted(t for img in client.images.list(name=f"devenv/{app.name}-*") for t in img.tags)


def built(results: dict[str, Any]) -> list[str]:
    return sorted(k for k, r in results.items() if r.status == "built")


def test_cold_then_noop(app: App, client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = Recorder()
    b = Builder(app, emit=rec, client=client)
    first = b.build()
    assert built(first) == ["base", "one", "two"]
    assert first["one"].build_args == {"BASE_IMAGE": first["base"].ref}
    assert first["one"].parent == "base" and first["base"].parent is None
    assert set(read_records(app.root)) == {"base", "one", "two"}
    assert len(tags_of(client, app)) == 3

    rec.clear()
    import devenv.build.builder as builder_mod

    def no_context(*a: Any, **kw: Any) -> Any:
        raise AssertionError("a cached build must not send a context")

    monkeypatch.setattr(builder_mod, "make_context_tar", no_context)
    t0 = time.monotonic()
    second = b.build()
    assert {k: r.status for k, r in second.items()} == {"base": "cached", "one": "cached", "two": "cached"}
    assert rec.started() == []
    assert {k: r.ref for k, r in second.items()} == {k: r.ref for k, r in first.items()}
    assert time.monotonic() - t0 < 5


def test_change_in_one_child_rebuilds_only_it(app: App, client: Any) -> None:
    b = Builder(app, client=client)
    b.build()
    write(app.root / "one" / "src" / "new.txt", "new\n")
    assert built(b.build()) == ["one"]


def test_ignored_change_rebuilds_nothing(app: App, client: Any) -> None:
    b = Builder(app, client=client)
    b.build()
    write(app.root / "two" / "debug.log", "noise\n")
    assert built(b.build()) == []


def test_base_change_rebuilds_base_and_children(app: App, client: Any) -> None:
    b = Builder(app, client=client)
    first = b.build()
    write(app.root / "base" / "lib" / "a.txt", "lib v2\n")
    second = b.build()
    assert built(second) == ["base", "one", "two"]
    assert second["one"].build_args["BASE_IMAGE"] == second["base"].ref != first["base"].ref


def test_subset_builds_ancestors_only(app: App, client: Any) -> None:
    res = Builder(app, client=client).build(["one"])
    assert sorted(res) == ["base", "one"]


def test_failing_run_raises_with_log_tail_and_line_and_tags_nothing(app: App, client: Any) -> None:
    write(app.root / "two" / "Dockerfile",
          "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nCOPY . /app\nRUN echo about to fail \\\n && exit 3\n")
    rec = Recorder()
    with pytest.raises(BuildError) as info:
        Builder(app, emit=rec, client=client).build(["two"])
    err = info.value
    assert err.image == "two" and err.line == 4
    assert err.dockerfile == app.root / "two" / "Dockerfile"
    assert any("about to fail" in line for line in err.log_tail)
    # the classic builder says "non-zero code: 3", BuildKit (RUN steps, where the engine has it) "exit code: 3"
    assert any("non-zero code: 3" in line or "exit code: 3" in line for line in err.log_tail)
    assert not [t for t in tags_of(client, app) if "-two:" in t]
    assert any(isinstance(e, BuildFinished) and e.status == "failed" for e in rec.events)


def test_cancel_stops_fast_tags_nothing_and_next_build_works(app: App, client: Any) -> None:
    Builder(app, client=client).build(["base"])
    # a unique step: BuildKit's cache is shared by every project on the engine
    write(app.root / "one" / "Dockerfile",
          f"ARG BASE_IMAGE\nFROM ${{BASE_IMAGE}}\nRUN echo slow {uuid.uuid4().hex} && sleep 30\n")
    cancel = threading.Event()

    def emit(ev: Event) -> None:
        if getattr(ev, "line", "").endswith("sleep 30"):
            threading.Timer(1.0, cancel.set).start()

    t0 = time.monotonic()
    with pytest.raises(BuildCancelled):
        Builder(app, emit=emit, client=client).build(["one"], cancel=cancel)
    assert time.monotonic() - t0 < 10
    assert not [t for t in tags_of(client, app) if "-one:" in t]

    write(app.root / "one" / "Dockerfile", "ARG BASE_IMAGE\nFROM ${BASE_IMAGE}\nRUN echo quick\n")
    assert built(Builder(app, client=client).build(["one"])) == ["one"]


def test_force_rebuilds_with_docker_layer_cache(app: App, client: Any) -> None:
    b = Builder(app, client=client)
    b.build()
    res = b.build(["one"], force=True)
    assert built(res) == ["base", "one"]
    assert res["one"].cached_steps >= 1


def make_project(root: Path, name: str) -> None:
    """A loadable project around ``make_app``'s Dockerfiles: one tenant running ``one``."""
    make_app(root, name)
    write(root / "devenv.yaml", f"name: {name}\nimages:\n  base: {{context: base}}\n"
          "  one: {context: one, parent: base}\n  two: {context: two, parent: base}\n"
          "components:\n  one: {image: one}\n")
    write(root / "profiles" / "acme.yaml", "tenant: acme\nnamespace: tenant-acme\n")


def test_build_command_json(tmp_path: Path, client: Any, monkeypatch: pytest.MonkeyPatch,
                            capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from devenv.cli import main

    name = f"t{uuid.uuid4().hex[:10]}"
    root = tmp_path / "proj"
    make_project(root, name)
    monkeypatch.setenv("DEVENV_ROOT", str(root))
    try:
        assert main(["build", "--json", "--tenant", "acme"]) == 0
        records = {r["image"]: r for r in json.loads(capsys.readouterr().out)}
        assert set(records) == {"base", "one"}  # two is not run by acme
        assert records["one"]["status"] == "built" and records["one"]["parent"] == "base"
        assert records["one"]["build_args"] == {"BASE_IMAGE": records["base"]["tag"]}
        assert "parent" not in records["base"]
        assert records["one"]["context"] == str(root / "one")
        assert records["one"]["dockerfile"] == str(root / "one" / "Dockerfile")
        assert main(["build", "--json", "-q"]) == 0
        again = json.loads(capsys.readouterr().out)
        assert {r["status"] for r in again} == {"cached"}
        assert main(["build"]) == 0
        out = capsys.readouterr().out
        assert "cached" in out and f"devenv/{name}-one:" in out
    finally:
        for img in client.images.list(name=f"devenv/{name}-*"):
            for tag in img.tags:
                client.images.remove(tag)


def test_ctrl_c_exits_130_and_tags_nothing(tmp_path: Path, client: Any) -> None:
    import os
    import signal
    import subprocess
    import sys

    name = f"t{uuid.uuid4().hex[:10]}"
    root = tmp_path / "proj"
    make_project(root, name)
    write(root / "one" / "Dockerfile", f"ARG BASE_IMAGE\nFROM ${{BASE_IMAGE}}\nRUN echo slow {uuid.uuid4().hex} && sleep 30\n")
    env = {**os.environ, "DEVENV_ROOT": str(root)}
    proc = subprocess.Popen([sys.executable, "-m", "devenv.cli", "build"], env=env, text=True, preexec_fn=interruptible,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "sleep 30" in line:
                break
        time.sleep(0.5)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 130
        assert time.monotonic() - t0 < 8
        assert not [t for t in tags_of_name(client, name) if "-one:" in t]
    finally:
        if proc.poll() is None:
            proc.kill()
        for tag in tags_of_name(client, name):
            client.images.remove(tag)


def tags_of_name(client: Any, name: str) -> list[str]:
    return sorted(t for img in client.images.list(name=f"devenv/{name}-*") for t in img.tags)


def test_a_noop_build_replays_and_any_change_takes_the_full_path(tmp_path: Path, client: Any,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """``build/replay.py`` on the real engine: the second run answers without loading the project
    and prints what the full path prints; an edit in a context, a new file or a removed tag each
    send the next run through the full path, which rebuilds exactly what changed."""
    import json

    from devenv.cli import main
    from devenv.model import loader

    name = f"t{uuid.uuid4().hex[:10]}"
    root = tmp_path / "proj"
    make_project(root, name)
    monkeypatch.setenv("DEVENV_ROOT", str(root))
    full_loads: list[int] = []
    real = loader.load_cached
    monkeypatch.setattr(loader, "load_cached", lambda *a, **k: (full_loads.append(1), real(*a, **k))[1])

    def build() -> dict[str, dict[str, Any]]:
        full_loads.clear()
        assert main(["build", "--json"]) == 0
        return {r["image"]: r for r in json.loads(capsys.readouterr().out)}

    try:
        first = build()
        assert {r["status"] for r in first.values()} == {"built"} and full_loads
        again = build()
        assert not full_loads, "an unchanged project must be answered by the replay"
        assert {k: {**r, "seconds": 0} for k, r in again.items()} == {
            k: {**r, "seconds": 0, "status": "cached", "steps": 0, "cached_steps": 0, "reason": ""}
            for k, r in ((k, {x: v for x, v in r.items() if x not in ("method", "detail")}) for k, r in first.items())}
        write(root / "one" / "src" / "main.txt", "one v2\n")
        edited = build()
        assert full_loads and edited["one"]["status"] == "built" and edited["base"]["status"] == "cached"
        build()
        assert not full_loads
        write(root / "one" / "src" / "new.txt", "new\n")
        assert build()["one"]["status"] == "built" and full_loads
        client.images.remove(build()["one"]["tag"])
        assert build()["one"]["status"] == "built" and full_loads
    finally:
        for tag in tags_of_name(client, name):
            client.images.remove(tag)
