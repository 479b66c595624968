"""The compose backend's redeploy command and the Compose CLI it runs, without an engine: which
binary (the plugin's own, found where ``docker`` finds it), which flags, and how long a replaced
container may take to stop."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from devenv import dockerclient
from devenv.backends.compose import REDEPLOY_STOP_TIMEOUT, ComposeBackend, _duration_seconds, stop_timeout
from devenv.errors import ToolMissing
from devenv.model import load_project
from devenv.model.resolve import resolve
from devenv.proc import Result, Runner


@pytest.fixture
def fresh_argv() -> Iterator[None]:
    dockerclient.compose_argv.cache_clear()
    yield
    dockerclient.compose_argv.cache_clear()


def fake_plugin(folder: Path, code: int = 0) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "docker-compose"
    path.write_text(f"#!/bin/sh\necho 'Docker Compose version v9.9.9'\nexit {code}\n")
    path.chmod(0o755)
    return path


def test_the_plugin_binary_is_run_directly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           fresh_argv: None) -> None:
    plugin = fake_plugin(tmp_path / "cfg" / "cli-plugins")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "cfg"))
    assert dockerclient.compose_plugin_paths()[0] == str(plugin)
    assert dockerclient.compose_argv() == (str(plugin),)


def test_extra_plugin_dirs_of_the_docker_config_come_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_plugin(tmp_path / "cfg" / "cli-plugins")
    extra = fake_plugin(tmp_path / "extra")
    (tmp_path / "cfg" / "config.json").write_text('{"cliPluginsExtraDirs": ["%s"]}' % (tmp_path / "extra"))
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "cfg"))
    assert dockerclient.compose_plugin_paths()[:2] == [str(extra), str(tmp_path / "cfg" / "cli-plugins" / "docker-compose")]


def test_a_broken_plugin_falls_back_to_docker_compose(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      fresh_argv: None) -> None:
    fake_plugin(tmp_path / "cfg" / "cli-plugins", code=1)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "cfg"))
    monkeypatch.setattr(dockerclient, "compose_plugin_paths", lambda: [str(tmp_path / "cfg" / "cli-plugins" / "docker-compose")])
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text('#!/bin/sh\n[ "$1" = compose ] && exit 0\nexit 1\n')
    docker.chmod(0o755)
    monkeypatch.setenv("PATH", str(bin_dir))
    assert dockerclient.compose_argv() == ("docker", "compose")


def test_no_compose_at_all_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   fresh_argv: None) -> None:
    monkeypatch.setattr(dockerclient, "compose_plugin_paths", lambda: [])
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissing):
        dockerclient.compose_argv()


@pytest.mark.parametrize(("value", "seconds"), [
    ("5s", 5.0), ("1m30s", 90.0), ("500ms", 0.5), ("1.5s", 1.5), ("0s", 0.0), (".5s", 0.5), (3, 3.0),
    ("2h", 7200.0), ("5", None), ("soon", None), (True, None), (-1, None), ("5s ", 5.0),
])
def test_compose_durations(value: Any, seconds: float | None) -> None:
    assert _duration_seconds(value) == seconds


def test_the_stop_timeout_is_short_unless_a_component_asks_for_more() -> None:
    doc = {"services": {"web": {}, "api": {"stop_grace_period": "1.2s"}, "postgres": {"stop_grace_period": "5s"},
                        "quick": {"stop_grace_period": "0s"}, "odd": {"stop_grace_period": "later"}}}
    assert stop_timeout(doc, ["web"]) == REDEPLOY_STOP_TIMEOUT == 2
    assert stop_timeout(doc, ["api"]) == 2  # whole seconds, rounded up
    assert stop_timeout(doc, ["web", "postgres"]) == 5  # one value per command: the longest
    assert stop_timeout(doc, ["quick"]) == 0  # a fragment may choose SIGKILL at once
    assert stop_timeout(doc, ["web", "odd"]) is None  # unreadable: compose's own rules


class Recorder(Runner):
    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str], **kw: Any) -> Result:
        self.calls.append(tuple(argv))
        return Result(tuple(argv), 0, "", "")


def test_redeploy_recreates_only_its_components_with_a_bounded_stop(sample: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dockerclient, "compose_argv", lambda: ("docker-compose",))
    project = load_project(sample)[0]
    runner = Recorder()
    backend = ComposeBackend(project, runner=runner)
    monkeypatch.setattr(backend, "wait_healthy", lambda *a, **k: None)
    spec = resolve(project, "acme", "local")
    images = {i: f"devenv/shop-{i}:0123456789abcdef" for i in project.app.images}
    backend.redeploy(spec, images, ["web", "nope"])
    (argv,) = runner.calls
    assert argv == ("docker-compose", "-p", spec.project, "-f", str(backend.compose_file("acme")),
                    "up", "-d", "--no-deps", "--timeout", "2", "web")
    assert "devenv/shop-web:0123456789abcdef" in backend.compose_file("acme").read_text()
    assert os.stat(backend.compose_file("acme")).st_mode & 0o077 == 0
    backend.redeploy(spec, images, ["web", "postgres"])  # postgres's fragment: stop_grace_period 5s
    assert runner.calls[-1][-4:] == ("--timeout", "5", "web", "postgres")
