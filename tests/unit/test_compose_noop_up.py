"""A no-op ``devenv up`` does not run compose: only when the rendered files hash as recorded by the
last ``up`` and the project's containers are exactly the ones it left (ids, compose config-hash
labels, image ids), all running. Anything else (a stopped or extra container, another image under
the same tag, an edited file) runs ``docker compose up -d`` as before. And the health wait is one
list call per poll, with a deadline that counts from the last progress."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from devenv.backends.compose import ComposeBackend
from devenv.errors import DevenvError
from devenv.model import load_project
from devenv.model.resolve import resolve
from devenv.proc import Result, Runner


class Recorder(Runner):
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str], **kw: Any) -> Result:
        self.calls.append(tuple(argv))
        return Result(tuple(argv), 0, "", "")


class FakeEngine:
    """The engine's list and inspect answers, as dockerhttp would return them."""

    def __init__(self, spec: Any, images: dict[str, str]) -> None:
        self.image_ids = {ref: f"sha256:{i}" for i, ref in enumerate(images.values())}
        self.rows = [self.row(spec, name, n, images) for n, name in enumerate(spec.workloads)]

    def row(self, spec: Any, comp: str, n: int, images: dict[str, str]) -> dict[str, Any]:
        w = spec.workloads[comp]
        ref = images.get(w.build_image, "") if w.build_image else (w.image_ref or "")
        return {"Id": f"c{n}", "State": "running", "Status": "Up 1 minute (healthy)", "Image": ref,
                "ImageID": self.image_ids.get(ref, "sha256:ext"), "Ports": [],
                "Labels": {"dev.devenv.project": "shop", "dev.devenv.tenant": spec.name,
                           "dev.devenv.component": comp, "com.docker.compose.project": spec.project,
                           "com.docker.compose.config-hash": f"h{n}"}}

    def containers(self, labels: list[str], all: bool = True) -> list[dict[str, Any]]:
        return [r for r in self.rows if all or r["State"] == "running"]

    def inspect_image(self, ref: str) -> dict[str, Any] | None:
        return {"Id": self.image_ids.get(ref, "sha256:ext")}


@pytest.fixture
def setup(sample: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[ComposeBackend, Recorder, FakeEngine, Any, dict[str, str]]:
    project, _ = load_project(sample)
    spec = resolve(project, "acme")
    images = {name: f"devenv/shop-{name}:{'0' * 16}" for name in project.app.images}
    engine = FakeEngine(spec, images)
    monkeypatch.setattr("devenv.dockerhttp.containers", engine.containers)
    monkeypatch.setattr("devenv.dockerhttp.inspect_image", engine.inspect_image)
    monkeypatch.setattr("devenv.backends.compose.port_free", lambda port, host: True)
    rec = Recorder()
    return ComposeBackend(project, runner=rec), rec, engine, spec, images


def ups(rec: Recorder) -> int:
    return sum(1 for argv in rec.calls if "up" in argv)


def test_a_second_up_with_nothing_changed_runs_no_compose(setup: Any) -> None:
    backend, rec, _engine, spec, images = setup
    backend.up(spec, images)
    assert ups(rec) == 1
    backend.up(spec, images)
    backend.up(spec, images)
    assert ups(rec) == 1


@pytest.mark.parametrize("change", ["stopped", "extra", "recreated", "image_id", "image_ref", "secret", "no_record"])
def test_any_difference_runs_compose(setup: Any, change: str) -> None:
    backend, rec, engine, spec, images = setup
    backend.up(spec, images)
    if change == "stopped":
        engine.rows[2]["State"] = "exited"
        engine.rows[2]["Status"] = "Exited (0) 1 second ago"
    elif change == "extra":
        engine.rows.append({**engine.rows[0], "Id": "orphan"})
    elif change == "recreated":
        engine.rows[0]["Labels"] = {**engine.rows[0]["Labels"], "com.docker.compose.config-hash": "other"}
    elif change == "image_id":  # `devenv build --force`: the same tag, another image
        engine.image_ids[engine.rows[0]["Image"]] = "sha256:rebuilt"
    elif change == "image_ref":
        images = {**images, "web": "devenv/shop-web:" + "1" * 16}
    elif change == "secret":  # a generated secret changed: the env files compose reads differ
        from devenv.secrets import secrets_file

        store = secrets_file(backend.project.app.root, "acme")
        data = json.loads(store.read_text())
        data["acme-payments"]["api-key"] = "rotated"
        store.write_text(json.dumps(data))
    else:
        (backend.project.app.root / ".devenv" / "acme" / "up.json").unlink()
    backend.up(spec, images, wait=False)
    assert ups(rec) == 2


def test_the_health_wait_times_out_only_without_progress(setup: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    backend, _rec, engine, spec, _images = setup
    monkeypatch.setattr("devenv.backends.compose.POLL", 0.01)
    monkeypatch.setattr(backend, "tail", lambda *a, **k: ["a log line"])
    clock = [0.0]
    monkeypatch.setattr("devenv.backends.compose.time.monotonic", lambda: clock[0])
    polls = [0]

    def advancing(labels: list[str], all: bool = True) -> list[dict[str, Any]]:
        polls[0] += 1
        clock[0] += 10.0  # 10 s per poll
        web = engine.rows[0]
        if polls[0] == 30:  # slow but progressing: healthy at 300 s with a 60 s timeout
            web["Status"] = "Up 5 minutes (healthy)"
        elif polls[0] % 5 == 0 and polls[0] < 30:
            web["Status"] = "Up (health: starting)" if "unhealthy" in web["Status"] else "Up (unhealthy)"
        return engine.containers(labels, all)

    engine.rows[0]["Status"] = "Up 1 second (health: starting)"
    monkeypatch.setattr("devenv.dockerhttp.containers", advancing)
    backend.wait_healthy(spec, list(spec.workloads), timeout=60)  # would have failed at 60 s before

    engine.rows[0]["Status"] = "Up 1 minute (unhealthy)"
    monkeypatch.setattr("devenv.dockerhttp.containers", lambda labels, all=True: clock.__setitem__(0, clock[0] + 10)
                        or engine.containers(labels, all))
    with pytest.raises(DevenvError, match="not healthy after 60 s without progress"):
        backend.wait_healthy(spec, list(spec.workloads), timeout=60)
