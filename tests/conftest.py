"""Shared fixtures.

Docker-backed tests use the real engine. Where none answers they *fail* when
``DEVENV_REQUIRE_DOCKER=1`` (set by ``scripts/test.sh``, which installs and starts one where it
can) and are skipped only in ad-hoc runs without it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SAMPLE_PARTS = ("devenv.yaml", "devenv.local.yaml", "profiles", "compose", "examples")


def copy_sample(dest: Path) -> Path:
    """A private copy of the bundled sample project (so tests may edit files freely)."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in SAMPLE_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__", ".devenv"))
        elif src.is_file():
            shutil.copy2(src, dest / part)
    return dest


@pytest.fixture
def sample(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the sample project, set as DEVENV_ROOT and the cwd."""
    root = copy_sample(tmp_path / "shop")
    monkeypatch.setenv("DEVENV_ROOT", str(root))
    monkeypatch.chdir(root)
    return root


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "engine_restart: restarts the shared Docker engine; run alone with DEVENV_ENGINE_RESTART=1")


def _engine_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """The real Docker engine, or a failure saying why (a skip only outside the test script)."""
    if _engine_answers():
        return
    msg = "no Docker engine answers (`docker info` failed); run scripts/bootstrap.sh"
    if os.environ.get("DEVENV_REQUIRE_DOCKER") == "1" or os.environ.get("CI"):
        pytest.fail(msg)
    pytest.skip(msg)
