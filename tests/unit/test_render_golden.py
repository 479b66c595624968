"""Golden files: the exact YAML devenv renders for every bundled tenant.

A diff here is a change users will see in their rendered files. A failure shows the unified diff;
review it, then regenerate with ``UPDATE_GOLDEN=1 .venv/bin/pytest tests/unit/test_render_golden.py``,
which rewrites only the files that changed and shows each diff again as a warning (never silently).
The rendered text is checked by the real tool first, on every run and before any rewrite: the
manifests by ``kubernetes-validate --strict`` here; the compose files by ``docker compose config``
in ``tests/integration/test_render_tools.py`` (it needs the Compose CLI).
"""

from __future__ import annotations

import difflib
import functools
import os
import warnings
from collections.abc import Callable
from pathlib import Path

import kubernetes_validate
import pytest
import yaml
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


K8S_VERSION = "1.30.0"


class GoldenRewritten(UserWarning):
    """UPDATE_GOLDEN=1 changed a golden file (the warning carries the diff)."""


@functools.lru_cache(maxsize=64)
def valid_manifests(text: str) -> None:
    """The same text is valid or not the same way every time: checked once per process (a refused
    text raises, and is not cached). bench/mutation.py forks a run per mutant from a process that
    checked every golden render already, so an unchanged render costs no second validation."""
    for doc in yaml.safe_load_all(text):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def check_golden(name: str, text: str, validate: Callable[[str], None] | None = None) -> None:
    if validate is not None:
        validate(text)  # a render the real tool refuses never becomes a golden file
    path = GOLDEN / name
    expected = path.read_text(encoding="utf-8") if path.is_file() else ""
    if text == expected:
        return
    diff = "".join(difflib.unified_diff(expected.splitlines(keepends=True), text.splitlines(keepends=True),
                                        f"tests/golden/{name}", f"rendered {name}"))
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        warnings.warn(GoldenRewritten(f"rewrote tests/golden/{name}:\n{diff}"), stacklevel=2)
        return
    pytest.fail(f"{name} differs from its golden file:\n{diff}\nreview it; if intended, regenerate with "
                "UPDATE_GOLDEN=1 (it shows each diff again)", pytrace=False)


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
    check_golden(f"kube-{tenant}-{env}.yaml", dump_all(docs), valid_manifests)


def test_cluster_golden(project: Project) -> None:
    specs = [resolve(project, t, "local") for t in TENANTS]
    check_golden("kind-cluster.yaml", dump(render_cluster(project, specs)))


def test_a_changed_render_fails_with_its_diff(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(globals(), "GOLDEN", tmp_path)  # check_golden reads this module's GOLDEN
    (tmp_path / "x.yaml").write_text("a: 1\nb: 2\n")
    monkeypatch.delenv("UPDATE_GOLDEN", raising=False)
    with pytest.raises(pytest.fail.Exception) as err:
        check_golden("x.yaml", "a: 1\nb: 3\n")
    assert "-b: 2" in str(err.value) and "+b: 3" in str(err.value)
    assert (tmp_path / "x.yaml").read_text() == "a: 1\nb: 2\n"  # not rewritten unless asked
    monkeypatch.setenv("UPDATE_GOLDEN", "1")
    with pytest.warns(GoldenRewritten, match=r"(?s)rewrote tests/golden/x.yaml.*\+b: 3"):
        check_golden("x.yaml", "a: 1\nb: 3\n")
    assert (tmp_path / "x.yaml").read_text() == "a: 1\nb: 3\n"


def test_a_render_the_tool_refuses_is_never_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPDATE_GOLDEN", "1")
    bad = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: many}\n"
    with pytest.raises(kubernetes_validate.ValidationError):
        check_golden("kube-never-written.yaml", bad, valid_manifests)
    assert not (GOLDEN / "kube-never-written.yaml").exists()
