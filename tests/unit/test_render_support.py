"""Shared helpers of the render tests (no tests here; named so it stays with them)."""

from __future__ import annotations

from pathlib import Path

from devenv.model import load_project
from devenv.model.types import Project

TENANTS = ("acme", "globex", "initech")
ENVS = ("local", "prod")
CONTEXTS = ("base", "web", "api", "worker", "scheduler", "services/postgres", "services/redis")


def load_sample(root: Path) -> Project:
    """The sample project. Renderers never read Dockerfiles, so a Dockerfile the example app lacks
    (while it is being edited) is stubbed in this private copy rather than failing render tests."""
    for ctx in CONTEXTS:
        dockerfile = root / "examples" / "shop" / ctx / "Dockerfile"
        if not dockerfile.is_file():
            dockerfile.parent.mkdir(parents=True, exist_ok=True)
            dockerfile.write_text("FROM scratch\n")
    return load_project(root)[0]


def fixed_images(project: Project, tag: str = "golden") -> dict[str, str]:
    return {k: f"devenv/{project.app.name}-{k}:{tag}" for k in project.app.images}
