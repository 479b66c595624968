"""``devenv status`` reads one list call: the engine's summaries map to the same states the
inspect-based path gives (health from the Status text, exit codes, restart loops)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from devenv.backends.compose import ComposeBackend, summary_ports, summary_state
from devenv.cli import chosen_command
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
