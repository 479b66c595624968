"""The validated-configuration cache: a hit returns the same project; any content change of an input
(or of a fact validation read, like a Dockerfile) re-runs the full pass; errors are never cached; a
cache that cannot be written is not an error; a foreign or group-writable cache is not read."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from devenv.errors import ConfigError
from devenv.model import cache
from devenv.model.loader import load_cached, load_project

SAMPLE = Path(__file__).resolve().parents[2]


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    for name in ("devenv.yaml", "devenv.local.yaml"):
        shutil.copy(SAMPLE / name, tmp_path / name)
    for name in ("profiles", "examples", "compose"):
        shutil.copytree(SAMPLE / name, tmp_path / name)
    (tmp_path / ".devenv").mkdir(mode=0o700)
    return tmp_path


def test_a_hit_returns_the_same_project_without_a_full_pass(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, warnings = load_cached(root)
    assert first == load_project(root)[0]
    assert cache.cache_path(root).stat().st_mode & 0o777 == 0o600
    monkeypatch.setattr("devenv.model.loader.load_project", lambda *a, **k: pytest.fail("full pass on a hit"))
    again, again_warnings = load_cached(root)
    assert again == first and [str(w) for w in again_warnings] == [str(w) for w in warnings]


@pytest.mark.parametrize("edit", ["devenv.yaml", "devenv.local.yaml", "profiles/acme.yaml",
                                  "new_profile", "personal", "dockerfile"])
def test_any_content_change_reruns_the_full_pass(root: Path, edit: str) -> None:
    load_cached(root)
    if edit == "new_profile":
        shutil.copy(root / "profiles/acme.yaml", root / "profiles/zeta.yaml")
        (root / "profiles/zeta.yaml").write_text((root / "profiles/zeta.yaml").read_text()
                                                 .replace("acme", "zeta"))
    elif edit == "personal":
        (root / "devenv.personal.yaml").write_text("defaults:\n  replicas: {web: 2}\n")
    elif edit == "dockerfile":
        df = root / "examples/shop/web/Dockerfile"
        # still buildable (FROM names a declared ARG), but the parent's BASE_IMAGE is no longer used
        df.write_text(df.read_text().replace("ARG BASE_IMAGE=shop-base", "ARG OTHER=shop-base")
                      .replace("${BASE_IMAGE}", "${OTHER}"))
    else:
        f = root / edit
        f.write_text(f.read_text() + "\n# a comment changes the content\n")
    project, warnings = load_cached(root)
    fresh, fresh_warnings = load_project(root)
    assert project == fresh and [str(w) for w in warnings] == [str(w) for w in fresh_warnings]
    if edit == "new_profile":
        assert "zeta" in project.profiles
    if edit == "dockerfile":
        assert any("ARG BASE_IMAGE" in str(w) for w in warnings)


def test_errors_are_never_cached_and_reported_every_time(root: Path) -> None:
    load_cached(root)
    f = root / "devenv.yaml"
    f.write_text(f.read_text().replace("ports_per_tenant: 20", "ports_per_tenant: many"))
    for _ in range(2):
        with pytest.raises(ConfigError):
            load_cached(root)


def test_a_cache_that_cannot_be_written_is_not_an_error(root: Path) -> None:
    (root / ".devenv" / "cache").write_text("a file where the cache directory would be")  # fails even as root
    project, _ = load_cached(root)
    assert project.app.name == "shop" and (root / ".devenv" / "cache").is_file()
    shutil.rmtree(root / ".devenv")
    assert load_cached(root)[0] == project and not (root / ".devenv").exists()  # nothing created


def test_a_group_writable_cache_is_not_read(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_cached(root)
    os.chmod(cache.cache_path(root), 0o666)
    calls = []
    real = load_project
    monkeypatch.setattr("devenv.model.loader.load_project", lambda *a, **k: calls.append(1) or real(*a, **k))
    load_cached(root)
    assert calls == [1]
