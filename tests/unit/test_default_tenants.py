"""A default tenant without a profile: a typo is an error, a profile still to import a warning
(so `devenv import --tenant acme` works on a checkout whose devenv.yaml already lists acme)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from devenv.errors import ConfigError
from devenv.model import load_project

REPO = Path(__file__).resolve().parents[2]


def test_a_missing_default_is_a_warning_and_a_close_typo_an_error(sample: Path) -> None:
    (sample / "profiles" / "acme.yaml").unlink()
    project, warnings = load_project(sample)
    assert "acme" not in project.profiles
    assert any("unknown tenant 'acme'" in str(w) and "devenv import --tenant acme" in str(w) for w in warnings)
    app = sample / "devenv.yaml"
    app.write_text(app.read_text().replace("default_tenants: [acme, globex]", "default_tenants: [globexx]"))
    with pytest.raises(ConfigError) as e:
        load_project(sample)
    assert "did you mean 'globex'" in str(e.value)


def test_import_writes_a_default_tenants_missing_profile(sample: Path) -> None:
    (sample / "profiles" / "acme.yaml").unlink()
    dump = REPO / "tests" / "fixtures" / "k8s" / "acme-namespace.yaml"
    cp = subprocess.run([sys.executable, "-m", "devenv.cli", "--root", str(sample), "import", "--tenant", "acme",
                         "--from-file", str(dump), "--yes"], capture_output=True, text=True, timeout=120)
    assert cp.returncode == 0, cp.stderr
    assert "acme" in load_project(sample)[0].profiles
