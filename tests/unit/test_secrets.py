"""Local secret values: generated once, kept private, never shown."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from test_render_support import load_sample

from devenv import secrets
from devenv.errors import DevenvError
from devenv.model import resolve
from devenv.model.types import Project, TenantSpec


@pytest.fixture
def project(sample: Path) -> Project:
    return load_sample(sample)


@pytest.fixture
def spec(project: Project) -> TenantSpec:
    return resolve(project, "acme")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_overlay_values_and_generated_ones(sample: Path, spec: TenantSpec) -> None:
    values = secrets.local_secret_values(sample, spec)
    assert values["shop-db"]["password"] == "devpass"  # from devenv.local.yaml
    generated = values["acme-payments"]["api-key"]
    assert len(generated) >= 24
    stored = json.loads(secrets.secrets_file(sample, "acme").read_text())
    assert stored == {"acme-payments": {"api-key": generated}}  # overlay values are not copied


def test_stable_across_runs(sample: Path, spec: TenantSpec) -> None:
    first = secrets.local_secret_values(sample, spec)
    mtime = secrets.secrets_file(sample, "acme").stat().st_mtime_ns
    assert secrets.local_secret_values(sample, spec) == first
    assert secrets.secrets_file(sample, "acme").stat().st_mtime_ns == mtime  # nothing new, nothing written


def test_private_modes_and_no_temp_files(sample: Path, spec: TenantSpec) -> None:
    values = secrets.local_secret_values(sample, spec)
    env_file = secrets.write_env_file(sample, spec, values)
    store = secrets.secrets_file(sample, "acme")
    assert mode(store) == 0o600 and mode(store.parent) == 0o700
    assert mode(env_file) == 0o600 and mode(env_file.parent) == 0o700
    assert [p.name for p in store.parent.iterdir()] == ["acme.json"]
    assert [p.name for p in env_file.parent.iterdir()] == ["secrets.env"]


def test_env_file_lines(sample: Path, spec: TenantSpec) -> None:
    values = secrets.local_secret_values(sample, spec)
    text = secrets.write_env_file(sample, spec, values).read_text()
    assert text == f"DATABASE_PASSWORD=devpass\nPAYMENTS_API_KEY={values['acme-payments']['api-key']}\n"


def test_env_file_refuses_missing_value(sample: Path, spec: TenantSpec) -> None:
    with pytest.raises(DevenvError, match="acme-payments/api-key"):
        secrets.write_env_file(sample, spec, {"shop-db": {"password": "x"}})


def test_overlay_wins_over_stored(sample: Path, spec: TenantSpec) -> None:
    secrets.local_secret_values(sample, spec)
    path = secrets.secrets_file(sample, "acme")
    data = json.loads(path.read_text())
    data["shop-db"] = {"password": "stale"}
    path.write_text(json.dumps(data))
    assert secrets.local_secret_values(sample, spec)["shop-db"]["password"] == "devpass"


def test_tenants_get_their_own_values(sample: Path, project: Project) -> None:
    a = secrets.local_secret_values(sample, resolve(project, "acme"))
    g = secrets.local_secret_values(sample, resolve(project, "globex"))
    assert "acme-payments" not in g and a["shop-db"] == g["shop-db"]


def test_stored_values_read_only(sample: Path) -> None:
    assert secrets.stored_secret_values(sample, "acme") == {}
    assert not (sample / ".devenv").exists()


def test_corrupt_store_is_a_devenv_error(sample: Path, spec: TenantSpec) -> None:
    path = secrets.secrets_file(sample, "acme")
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(DevenvError, match="delete the file|cannot read"):
        secrets.local_secret_values(sample, spec)


def test_masker() -> None:
    m = secrets.Masker({"db": {"password": "hunter22", "short": "abc"}, "x": {"k": "hunter22-long"}})
    assert m.mask("login hunter22-long then hunter22 abc") == "login **** then **** abc"
    assert m.mask("nothing here") == "nothing here"
    assert not secrets.Masker({})
