"""The Compose CLI devenv runs, without an engine: the plugin's own binary, found where ``docker``
finds it, else ``docker compose``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devenv import dockerclient
from devenv.errors import ToolMissing


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
