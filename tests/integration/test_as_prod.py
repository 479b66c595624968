"""Issue 8 end to end: import a production tenant from a namespace dump, provide its pinned images
(here by tagging local builds as production's references, standing in for `docker pull` or
`docker load`), and run it with `--as-prod --dev web`: every component on its pinned image except
web, built from source."""

from __future__ import annotations

import json
from pathlib import Path

import docker
import pytest
import yaml

from tests.conftest import REPO, copy_sample
from tests.integration.helpers import devenv, http, isolate, teardown, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.slow]
APP = "asprod"


def test_an_imported_tenant_runs_its_production_images_with_web_from_source(tmp_path: Path, docker_engine: None) -> None:
    root = copy_sample(tmp_path / "shop")
    isolate(root, APP, 30500)
    (root / "profiles" / "acme.yaml").unlink()
    devenv(root, "import", "--tenant", "acme", "--from-file", str(REPO / "tests/fixtures/k8s/acme-namespace.yaml"), "--yes")
    profile = yaml.safe_load((root / "profiles" / "acme.yaml").read_text())
    pinned = {c: d["image"] for c, d in profile["components"].items() if d.get("image") and c != "web"}
    built = {r["image"]: r["tag"] for r in json.loads(devenv(root, "build", "--tenant", "acme", "--json").stdout)}
    client = docker.from_env()
    for comp, ref in pinned.items():
        repo, _, tag = ref.split("@")[0].rpartition(":")
        client.images.get(built[comp]).tag(repo, tag)
    try:
        devenv(root, "up", "--tenant", "acme", "--as-prod", "--dev", "web", "--detach", timeout=600)
        rows = {r["component"]: r for r in json.loads(devenv(root, "status", "--json").stdout)}
        assert rows["web"]["image"].startswith(f"devenv/{APP}-web:")
        for comp, ref in pinned.items():
            assert rows[comp]["image"] == ref.split("@")[0], (comp, rows[comp]["image"])
        wait_for(lambda: http(rows["web"]["url"])[0] == 200, what="acme's web")
        diff = devenv(root, "diff", "--tenant", "acme", "--as-prod", "--dev", "web").stdout
        assert "--dev" in diff and "web" in diff
    finally:
        teardown(root, ["acme"])
        for ref in pinned.values():
            client.images.remove(ref.split("@")[0])
