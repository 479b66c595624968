"""Golden files: the exact YAML devenv renders for every bundled tenant.

A diff here is a change users will see in their rendered files; review it, then regenerate with
``UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_render_golden.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_render_support import ENVS, TENANTS, fixed_images, load_sample

from devenv.model import resolve
from devenv.model.types import Project
from devenv.render.compose import load_fragments, render_compose
from devenv.render.kind_cluster import render_cluster
from devenv.render.kube import render_manifests
from devenv.render.yamldump import dump, dump_all

GOLDEN = Path(__file__).resolve().parent.parent / "golden"
# Fixed inputs, so the files depend on the renderers and the sample only.
SECRET_VALUES = {"shop-db": {"password": "devpass"}, "acme-payments": {"api-key": "golden-api-key"}}


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    if not path.is_file():
        pytest.fail(f"no golden file {path}; create it with UPDATE_GOLDEN=1")
    expected = path.read_text(encoding="utf-8")
    assert text == expected, f"{name} differs from its golden file; if intended, regenerate with UPDATE_GOLDEN=1"


@pytest.fixture
def project(sample: Path) -> Project:
    return load_sample(sample)


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("tenant", TENANTS)
def test_compose_golden(project: Project, sample: Path, tenant: str, env: str) -> None:
    spec = resolve(project, tenant, env)  # type: ignore[arg-type]
    env_file = ({n: f".devenv/{tenant}/secrets/{n}.env" for n, w in spec.workloads.items() if w.secret_env}
                if env == "local" else None)
    doc = render_compose(project, spec, fixed_images(project), secrets_env_file=env_file,
                         fragments=load_fragments(sample))
    check_golden(f"compose-{tenant}-{env}.yaml", dump(doc))


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("tenant", TENANTS)
def test_kube_golden(project: Project, tenant: str, env: str) -> None:
    spec = resolve(project, tenant, env)  # type: ignore[arg-type]
    docs = render_manifests(project, spec, fixed_images(project), SECRET_VALUES if env == "local" else None)
    check_golden(f"kube-{tenant}-{env}.yaml", dump_all(docs))


def test_cluster_golden(project: Project) -> None:
    specs = [resolve(project, t, "local") for t in TENANTS]
    check_golden("kind-cluster.yaml", dump(render_cluster(project, specs)))
