"""Fixtures for the contract tests: the sample project, loaded, and a fresh ``FakeRunner``."""

from __future__ import annotations

from pathlib import Path

import pytest

from devenv.model import load_project
from devenv.model.types import Project
from tests.contract.fakerunner import FakeRunner


@pytest.fixture
def project(sample: Path) -> Project:
    proj, _ = load_project(sample)
    return proj


@pytest.fixture
def fake() -> FakeRunner:
    return FakeRunner()
