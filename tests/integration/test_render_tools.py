"""Rendered files through the real tools: ``docker compose config`` and ``kubernetes-validate``.

``docker compose config`` only parses and validates, so it needs the Compose CLI but no running
engine; ``kubernetes-validate --strict`` checks the manifests against the Kubernetes 1.30 schemas
without a cluster.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import kubernetes_validate
import pytest

from devenv import secrets
from devenv.model import resolve
from devenv.model.types import Project
from devenv.render.compose import load_fragments, render_compose
from devenv.render.kind_cluster import cluster_satisfies, render_cluster
from devenv.render.kube import render_manifests
from devenv.render.yamldump import dump, dump_all
from tests.unit.test_render_support import ENVS, TENANTS, fixed_images, load_sample

K8S_VERSION = "1.30.0"


@pytest.fixture(scope="session")
def compose_cli() -> None:
    """The Compose CLI (engine not needed); a failure under the test script, else a skip."""
    try:
        ok = shutil.which("docker") is not None and subprocess.run(
            ["docker", "compose", "version"], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    if not ok:
        msg = "`docker compose version` failed: the Compose CLI is missing; run scripts/bootstrap.sh"
        if os.environ.get("DEVENV_REQUIRE_DOCKER") == "1" or os.environ.get("CI"):
            pytest.fail(msg)
        pytest.skip(msg)


@pytest.fixture
def project(sample: Path) -> Project:
    return load_sample(sample)


def compose_config(text: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", "compose", "-f", "-", "config", "--format", "json"], input=text, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.docker
@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("tenant", TENANTS)
def test_compose_config_accepts(project: Project, sample: Path, compose_cli: None, tenant: str, env: str) -> None:
    spec = resolve(project, tenant, env)  # type: ignore[arg-type]
    env_file = None
    if env == "local":
        env_file = str(secrets.write_env_file(sample, spec, secrets.local_secret_values(sample, spec)))
    doc = render_compose(project, spec, fixed_images(project), secrets_env_file=env_file,
                         fragments=load_fragments(sample))
    cp = compose_config(dump(doc), sample)
    assert cp.returncode == 0, cp.stderr
    config = json.loads(cp.stdout)
    assert config["name"] == f"devenv-{tenant}"
    assert config["networks"]["default"]["name"] == f"devenv-{tenant}"
    for name, svc in config["services"].items():
        for port in svc.get("ports", []):
            assert port["host_ip"] == "127.0.0.1", f"{name} publishes beyond loopback"
        if env == "local" and spec.workloads[name].secret_env:
            assert "DATABASE_PASSWORD" in svc["environment"]  # reached through the env file
    if env == "local":
        assert config["services"]["postgres"]["shm_size"] in ("128m", 134217728, "134217728")


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("tenant", TENANTS)
def test_manifests_validate_strict(project: Project, tenant: str, env: str) -> None:
    spec = resolve(project, tenant, env)  # type: ignore[arg-type]
    values = {"shop-db": {"password": "devpass"}, "acme-payments": {"api-key": "x" * 24}}
    for doc in render_manifests(project, spec, fixed_images(project), values if env == "local" else None):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_manifests_validate_with_the_cli(project: Project, tmp_path: Path) -> None:
    """The same check as a user would run it, on one multi-document file of every tenant."""
    docs = [d for t in TENANTS for env in ENVS
            for d in render_manifests(project, resolve(project, t, env), fixed_images(project))]  # type: ignore[arg-type]
    path = tmp_path / "all.yaml"
    path.write_text(dump_all(docs))
    exe = Path(sys.executable).with_name("kubernetes-validate")
    cp = subprocess.run([str(exe), "--strict", "-k", K8S_VERSION, "--quiet", str(path)],
                        capture_output=True, text=True, timeout=300)
    assert cp.returncode == 0, cp.stdout + cp.stderr


def test_cluster_config_places_every_tenant(project: Project) -> None:
    specs = [resolve(project, t) for t in TENANTS]
    cluster = render_cluster(project, specs)
    assert cluster_satisfies(cluster, specs) == []
    for spec in specs:  # and the Deployments select exactly what the profile says
        assert all(d["spec"]["template"]["spec"].get("nodeSelector", {}) == spec.node_selector
                   for d in render_manifests(project, spec, fixed_images(project)) if d["kind"] == "Deployment")


@pytest.mark.docker
def test_every_compose_golden_file_passes_compose_config(compose_cli: None, tmp_path: Path) -> None:
    """The golden files themselves, through the real Compose CLI: a golden regenerated from a bad
    render fails here (the env files they name are created empty, as devenv would write them)."""
    golden = Path(__file__).resolve().parents[1] / "golden"
    files = sorted(golden.glob("compose-*.yaml"))
    assert files
    for f in files:
        text = f.read_text()
        for line in text.splitlines():
            if ".devenv/" in line and line.strip().startswith("- "):
                env = tmp_path / line.strip()[2:].strip().strip("'\"")
                env.parent.mkdir(parents=True, exist_ok=True)
                env.touch()
        cp = compose_config(text, tmp_path)
        assert cp.returncode == 0, f"{f.name}: {cp.stderr}"
