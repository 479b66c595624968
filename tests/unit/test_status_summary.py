"""``devenv status`` reads one list call: the engine's summaries map to the same states the
inspect-based path gives (health from the Status text, exit codes, restart loops)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devenv.backends.compose import ComposeBackend
from devenv.cli import chosen_command
from devenv.containers import summary_ports, summary_state
from devenv.model import load_project

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("state", "status", "restarts", "want"), [
    ("running", "Up 3 minutes (healthy)", 0, ("healthy", "healthy")),
    ("running", "Up 2 seconds (health: starting)", 0, ("starting", "starting")),
    ("running", "Up 1 minute (unhealthy)", 0, ("unhealthy", "unhealthy")),
    ("running", "Up 5 minutes", 0, ("running", "")),
    ("exited", "Exited (0) 2 minutes ago", 0, ("stopped", "")),
    ("exited", "Exited (137) 2 minutes ago", 0, ("crashed", "")),
    ("restarting", "Restarting (1) 3 seconds ago", 1, ("starting", "")),
    ("restarting", "Restarting (1) 3 seconds ago", 5, ("crashed", "")),
    ("created", "Created", 0, ("stopped", "")),
])
def test_summary_state(state: str, status: str, restarts: int, want: tuple[str, str]) -> None:
    assert summary_state({"State": state, "Status": status, "RestartCount": restarts}) == want


def test_summary_ports_lists_published_ports_only() -> None:
    row = {"Ports": [{"IP": "127.0.0.1", "PrivatePort": 8000, "PublicPort": 18000, "Type": "tcp"},
                     {"PrivatePort": 9000, "Type": "tcp"}]}
    assert summary_ports(row) == "127.0.0.1:18000->8000/tcp"


def test_status_is_one_list_call(monkeypatch: pytest.MonkeyPatch) -> None:
    project, _ = load_project(ROOT)
    calls: list[Any] = []

    def fake(labels: list[str], all: bool = True) -> list[dict[str, Any]]:
        calls.append(labels)
        lab = {"dev.devenv.project": "shop", "dev.devenv.tenant": "acme"}
        return [{"Id": "1", "State": "running", "Status": "Up 1 minute (healthy)", "Image": "devenv/shop-web:x",
                 "Labels": {**lab, "dev.devenv.component": "web"}, "Ports": []},
                {"Id": "2", "State": "running", "Status": "Up 1 minute", "Image": "devenv/shop-scheduler:x",
                 "Labels": {**lab, "dev.devenv.component": "scheduler"}, "Ports": []}]

    monkeypatch.setattr("devenv.dockerhttp.containers", fake)
    monkeypatch.setattr("devenv.dockerclient.client", lambda *a, **k: pytest.fail("no SDK client for status"))
    rows = ComposeBackend(project).status()
    assert calls == [["dev.devenv.project=shop"]]
    assert [(r.component, r.state, r.health) for r in rows] == [("scheduler", "running", "none"),
                                                                 ("web", "healthy", "healthy")]
    assert rows[1].url.startswith("http://127.0.0.1:") and rows[0].url == ""


def test_the_cli_imports_only_the_command_it_runs() -> None:
    assert chosen_command(["--root", "x", "status", "--json"]) == "status"
    assert chosen_command(["--version"]) is None
    import subprocess
    import sys

    code = ("import sys, devenv.cli as c; c.build_parser(c.chosen_command(['status'])); "
            "print(sorted(m for m in sys.modules if m.startswith('devenv.commands.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['devenv.commands._common', 'devenv.commands.status']"


# --- the index: `status` without loading the model ---------------------------------------------------

def _summaries(web_port: int) -> list[dict[str, Any]]:
    lab = {"dev.devenv.project": "shop", "dev.devenv.tenant": "acme"}
    return [{"Id": "1", "State": "running", "Status": "Up 1 minute (healthy)", "Image": "devenv/shop-web:x",
             "Labels": {**lab, "dev.devenv.component": "web"},
             "Ports": [{"IP": "127.0.0.1", "PrivatePort": 8000, "PublicPort": web_port, "Type": "tcp"}]},
            {"Id": "2", "State": "exited", "Status": "Exited (3) 1 minute ago", "Image": "devenv/shop-worker:x",
             "Labels": {**lab, "dev.devenv.component": "worker"}, "Ports": []},
            {"Id": "3", "State": "running", "Status": "Up 1 minute", "Image": "devenv/shop-web:x",
             "Labels": {**lab, "dev.devenv.tenant": "globex", "dev.devenv.component": "web"}, "Ports": []}]


def _status(capsys: pytest.CaptureFixture[str], *args: str) -> list[dict[str, Any]]:
    import json

    from devenv import cli

    assert cli.main(["status", "--json", *args]) == 0
    return list(json.loads(capsys.readouterr().out))


def test_the_index_answers_as_the_full_path_does(sample: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """First call: full path (load + backend), which writes the index; second call: the index, with
    the model never consulted. Both print the same records, tenant filter included."""
    from devenv import layout

    monkeypatch.setattr("devenv.dockerhttp.containers", lambda labels, all=True: _summaries(18000))
    layout.ensure(sample)
    full = _status(capsys)
    assert layout.cache_file(sample, "status.json").is_file()
    monkeypatch.setattr("devenv.model.loader.load_cached", lambda *a, **k: pytest.fail("the index must answer"))
    assert _status(capsys) == full
    assert [r["component"] for r in _status(capsys, "--tenant", "globex")] == ["web"]
    assert [(r["component"], r["state"], r["url"] != "") for r in full if r["tenant"] == "acme"] == [
        ("web", "healthy", True), ("worker", "crashed", False)]


def test_an_edited_profile_misses_the_index(sample: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    """The index is keyed by the configuration's content: a new port base shows at once."""
    from devenv import layout

    monkeypatch.setattr("devenv.dockerhttp.containers", lambda labels, all=True: _summaries(18000))
    layout.ensure(sample)
    before = {r["component"]: r["url"] for r in _status(capsys, "-t", "acme")}
    app = sample / "devenv.yaml"
    app.write_text(app.read_text().replace("port_base: 18000", "port_base: 23000"))
    after = {r["component"]: r["url"] for r in _status(capsys, "-t", "acme")}
    assert before["web"] != after["web"] and after["web"].startswith("http://127.0.0.1:230")


def test_status_writes_no_state_directory(sample: Path, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    from devenv import layout

    monkeypatch.setattr("devenv.dockerhttp.containers", lambda labels, all=True: [])
    assert _status(capsys) == []
    assert not layout.state_root(sample).exists()


def test_the_fast_path_imports_no_model(sample: Path) -> None:
    """What makes ``status`` instant: on an index hit neither YAML, the validator nor the model's
    dataclasses load (checked in a fresh interpreter, with the engine's list call stubbed)."""
    import subprocess
    import sys

    from devenv import layout

    layout.ensure(sample)
    code = ("import json, sys\nimport devenv.dockerhttp as d\nd.containers = lambda labels, all=True: []\n"
            "from devenv import cli\nassert cli.main(['status', '--json']) == 0\n"
            "assert cli.main(['status', '--json']) == 0\n"
            "[sys.modules.pop(m) for m in list(sys.modules) if m.startswith(('devenv.model', 'yaml'))]\n"
            "assert cli.main(['status', '--json']) == 0\n"
            "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('devenv.model', 'yaml', 'jsonschema')))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=sample, capture_output=True, text=True, check=True).stdout
    loaded = out.strip().splitlines()[-1]
    assert "devenv.model.types" not in loaded and '"yaml"' not in loaded, loaded


@pytest.mark.parametrize("drop", ["name", "warnings", "urls"])
def test_a_hand_edited_index_is_a_miss_not_a_traceback(sample: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str], drop: str) -> None:
    import json

    from devenv import layout

    monkeypatch.setattr("devenv.dockerhttp.containers", lambda labels, all=True: _summaries(18000))
    layout.ensure(sample)
    full = _status(capsys)
    index = layout.cache_file(sample, "status.json")
    doc = json.loads(index.read_text())
    doc.pop(drop)
    index.write_text(json.dumps(doc))
    assert _status(capsys) == full  # the full path answered, and wrote the index anew
    assert drop in json.loads(index.read_text())


def test_a_mistyped_tenant_is_named_even_with_the_engine_down(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """``status -t acmee`` with no engine: the typo is the user's problem to fix first, not the engine."""
    from devenv import cli
    from tests.conftest import copy_sample

    root = copy_sample(tmp_path / "shop")
    monkeypatch.chdir(root)
    monkeypatch.setenv("DEVENV_ROOT", str(root))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    assert cli.main(["status", "-t", "acmee"]) == 1
    err = capsys.readouterr().err
    assert "unknown tenant(s): acmee" in err and "known tenants: " in err
    assert cli.main(["status", "-t", "acme"]) == 1  # a real tenant: the engine's absence is the answer
    assert "does not answer" in capsys.readouterr().err
