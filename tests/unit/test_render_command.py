"""``devenv render``: YAML only on stdout, notes on stderr, nothing written unless asked."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from test_render_support import fixed_images, load_sample

from devenv import cli, secrets
from devenv.commands import render as render_cmd
from devenv.model.types import Project


@pytest.fixture
def project(sample: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    project = load_sample(sample)
    monkeypatch.setattr(render_cmd, "image_refs", lambda p, specs: fixed_images(p, "cmd"))
    return project


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(["render", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_compose_stdout_is_yaml_and_writes_nothing(project: Project, sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--tenant", "acme")
    assert code == 0
    doc = yaml.safe_load(out)
    assert doc["name"] == "devenv-acme" and doc["services"]["web"]["image"] == "devenv/shop-web:cmd"
    assert "secrets left out" in err and "env_file" not in out
    assert not (sample / ".devenv").exists()


def test_compose_references_env_file_once_written(project: Project, sample: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "-t", "acme", "--write-secrets")
    env_file = secrets.component_env_file_path(sample, "acme", "web")
    assert code == 0 and env_file.is_file()
    services = yaml.safe_load(out)["services"]
    assert services["web"]["env_file"] == [str(env_file)]
    assert "devpass" not in out
    # each component's file holds only its own secrets: postgres its password, redis none
    pg = secrets.component_env_file_path(sample, "acme", "postgres")
    assert pg.read_text().splitlines() == ["DATABASE_PASSWORD=devpass"]
    assert "PAYMENTS_API_KEY=" in env_file.read_text()
    assert "env_file" not in services["redis"]
    assert not secrets.component_env_file_path(sample, "acme", "redis").exists()
    _, again, err = run(capsys, "-t", "acme")  # the file exists now: referenced without the flag
    assert again == out and "secrets left out" not in err


def test_compose_default_tenant_and_one_only(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys)
    assert code == 0 and yaml.safe_load(out)["name"] == "devenv-acme" and "rendering tenant acme" in err
    code, out, err = run(capsys, "-t", "acme,globex")
    assert code == 1 and out == "" and "one tenant at a time" in err


def test_kind_several_tenants(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--backend", "kind", "-t", "acme,globex")
    docs = list(yaml.safe_load_all(out))
    assert code == 0
    assert [d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"] == ["tenant-acme", "tenant-globex"]
    assert "acme-payments/api-key" in err  # no local value yet: said, not invented


def test_kind_prod_no_secrets(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "--backend", "kind", "--env", "prod", "-t", "acme")
    docs = list(yaml.safe_load_all(out))
    assert code == 0 and not [d for d in docs if d["kind"] == "Secret"] and err == ""
    web = next(d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "web")
    assert web["spec"]["template"]["spec"]["containers"][0]["image"].startswith("registry.shop.example/")


def test_cluster(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--cluster")
    cluster = yaml.safe_load(out)
    assert code == 0 and cluster["kind"] == "Cluster" and len(cluster["nodes"]) == 3
    _, out, _ = run(capsys, "--cluster", "--registry", "none", "-t", "globex")
    assert "containerdConfigPatches" not in yaml.safe_load(out)


def test_output_file(project: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out" / "acme.yaml"
    code, out, err = run(capsys, "-t", "acme", "-o", str(target))
    assert code == 0 and out == "" and str(target) in err
    assert yaml.safe_load(target.read_text())["name"] == "devenv-acme"


def test_unknown_tenant(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "-t", "acmee")
    assert code == 1 and out == "" and "did you mean 'acme'" in err
