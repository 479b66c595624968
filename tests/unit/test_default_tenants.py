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


def test_without_port_base_or_ports_per_tenant_tenants_publish_from_18000_in_steps_of_20(
        sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The defaults of devenv.yaml's port keys, as `devenv render` shows them: globex (second in
    name order) starts at 18000 + 1 * 20; and validation checks the same ports the app uses."""
    import yaml

    from devenv import cli
    from devenv.model.validate import DEFAULT_PORT_BASE, DEFAULT_PORTS_PER_TENANT

    app = sample / "devenv.yaml"
    text = app.read_text()
    assert "\nport_base: 18000 " in text and "\nports_per_tenant: 20\n" in text
    app.write_text("".join(line for line in text.splitlines(keepends=True)
                           if not line.startswith(("port_base:", "ports_per_tenant:"))))
    project, _ = load_project(sample)
    assert (project.app.port_base, project.app.ports_per_tenant) == (DEFAULT_PORT_BASE, DEFAULT_PORTS_PER_TENANT)
    assert cli.main(["render", "--tenant", "globex"]) == 0
    services = yaml.safe_load(capsys.readouterr().out)["services"]
    published = sorted(p["published"] for s in services.values() for p in s.get("ports", ()))
    assert published == ["18020", "18021", "18022"]


def test_a_command_seed_is_named_by_its_command_when_it_runs_and_when_it_fails(sample: Path) -> None:
    """`devenv data seed` with `seed: {command: [...]}`: what it reports and remembers as seeded, and
    the command it names when the command fails."""
    from types import SimpleNamespace

    from devenv.commands.data import run_seed
    from devenv.data import store
    from devenv.errors import DevenvError
    from devenv.model.resolve import resolve

    profile = sample / "profiles" / "acme.yaml"
    profile.write_text(profile.read_text() + "seed: {command: [python3, -m, seed, --small], component: web}\n")
    project, _ = load_project(sample)
    ran: list[list[str]] = []
    answer = (0, "")

    def exec_(tenant: str, comp: str, argv: list[str]) -> tuple[int, str]:
        ran.append([tenant, comp, *argv])
        return answer

    data = SimpleNamespace(project=project, root=sample, spec=lambda t: resolve(project, t),
                           backend=SimpleNamespace(exec=exec_), volume_ids=lambda t: {})
    assert run_seed(data, "acme") == "python3 -m seed --small"
    assert ran == [["acme", "web", "python3", "-m", "seed", "--small"]]
    assert store.read_state(sample, "acme")["seeded"] == "python3 -m seed --small"
    answer = (3, "step 1\nno such table\n")
    with pytest.raises(DevenvError) as err:
        run_seed(data, "acme")
    assert err.value.message == "seed command `python3 -m seed --small` in acme/web exited 3:\n    step 1\n    no such table"
    assert err.value.hint == "fix it and rerun with `devenv data seed --tenant acme`"
