"""``devenv doctor``: on this machine (real docker and kubectl) and with a fake Runner where a
situation must be simulated (kind absent or too old, no engine, compose plugin not linked)."""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import pytest

from devenv.cli import main
from devenv.commands import doctor
from devenv.commands.doctor import Check, run_checks
from devenv.model import load_project
from devenv.model.types import Project
from devenv.proc import Runner, default_runner
from tests.contract.fakerunner import FakeRunner

LINE = re.compile(r"^(ok|warn|fail)\s+\S.*")
INFO = json.dumps({"ServerVersion": "27.3.1", "DockerRootDir": "/", "CgroupVersion": "2", "SecurityOptions": []})


class NoKind(Runner):
    """The real machine, except that kind is not on PATH (whatever this machine has)."""

    def which(self, tool: str) -> str | None:
        return None if tool == "kind" else super().which(tool)


@pytest.fixture
def project(sample: Path) -> Project:
    return load_project(sample)[0]


def by_name(checks: list[Check]) -> dict[str, Check]:
    return {c.name: c for c in checks}


def engine_fake(**tools: str) -> FakeRunner:
    fake = FakeRunner(tools=("docker", "kubectl", *tools))
    fake.on("docker", "info", stdout=INFO)
    fake.on("docker", "compose", "version", stdout="2.29.1\n")
    fake.on("kubectl", "version", stdout=json.dumps({"clientVersion": {"major": "1", "minor": "31"}}))
    return fake


def test_this_machine_gives_actionable_lines(docker_engine: None, project: Project) -> None:
    checks = run_checks(NoKind(), project)
    for c in checks:
        assert LINE.match(c.line()), c.line()
        if c.status != "ok":
            assert c.fix, f"{c.name} is {c.status} without a fix"
    got = by_name(checks)
    assert got["docker engine"].status == "ok" and "Docker Engine" in got["docker engine"].found
    assert got["compose"].status == "ok"
    assert got["kubectl"].status in ("ok", "warn") and got["kubectl"].found
    assert got["kind"].status == "warn" and "go install sigs.k8s.io/kind@v0.24.0" in got["kind"].fix
    assert "[fix: go install sigs.k8s.io/kind@v0.24.0" in got["kind"].line()
    assert {f"ports {t}" for t in project.profiles} <= set(got)
    assert {"inotify", "disk project", "disk docker", "base image", "buildx"} <= set(got)


def test_kind_missing_fails_only_for_the_kind_backend(docker_engine: None, project: Project) -> None:
    assert by_name(run_checks(NoKind(), project, backend="compose"))["kind"].status == "warn"
    assert by_name(run_checks(NoKind(), project, backend="kind"))["kind"].status == "fail"


def test_kubectl_on_this_machine_is_versioned(project: Project) -> None:
    if default_runner.which("kubectl") is None:
        pytest.skip("kubectl is not installed here")
    c = by_name(run_checks(NoKind(), project))["kubectl"]
    assert re.search(r"kubectl \d+\.\d+", c.found) or "older" in c.found


def test_old_kind_is_a_warning_with_the_install_command(project: Project) -> None:
    fake = engine_fake(kind="kind")
    fake.on("kind", "version", stdout="kind v0.17.0 go1.19.2 linux/amd64\n")
    c = by_name(run_checks(fake, project))["kind"]
    assert c.status == "warn" and "0.17 is older than the supported 0.20" in c.found
    assert c.fix.startswith("go install sigs.k8s.io/kind@v0.24.0")
    fake.on("kind", "version", stdout="kind v0.24.0 go1.22.6 linux/amd64\n")
    assert by_name(run_checks(fake, project))["kind"].status == "ok"


def test_no_engine_fails_and_skips_engine_checks(project: Project) -> None:
    fake = FakeRunner(tools=("docker",))
    fake.on("docker", "info", code=1, stderr="Cannot connect to the Docker daemon")
    got = by_name(run_checks(fake, project))
    assert got["docker engine"].status == "fail" and "systemctl start docker" in got["docker engine"].fix
    assert "compose" not in got and "base image" not in got
    assert [c.argv[:2] for c in fake.calls if c.argv[0] == "docker"] == [("docker", "info")]


def test_compose_plugin_link_is_offered_and_applied_with_fix(project: Project, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    binary = tmp_path / "bin" / "docker-compose"
    binary.parent.mkdir()
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "dockercfg"))
    fake = engine_fake()
    fake.on("docker", "compose", "version", code=1, stderr="docker: 'compose' is not a docker command.")
    monkeypatch.setattr(FakeRunner, "which", lambda self, t: str(binary) if t == "docker-compose" else
                        (f"/usr/bin/{t}" if t in self.tools else None))
    c = by_name(run_checks(fake, project))["compose"]
    assert c.status == "fail" and f"ln -sf {binary} {tmp_path}/dockercfg/cli-plugins/docker-compose" in c.fix
    fixed = by_name(run_checks(fake, project, fix=True))["compose"]
    assert fixed.status == "ok" and fixed.fixed
    assert (tmp_path / "dockercfg" / "cli-plugins" / "docker-compose").resolve() == binary


def test_buildx_absent_is_only_a_warning(project: Project) -> None:
    fake = engine_fake()
    fake.on("docker", "buildx", "version", code=1)
    c = by_name(run_checks(fake, project))["buildx"]
    assert c.status == "warn" and "build API" in c.found


def test_busy_port_fails_unless_devenv_holds_it(project: Project) -> None:
    from devenv.model.resolve import resolve

    # A tenant whose ports are all free right now (this machine may be running another one).
    ports = {t: [p.host for w in resolve(project, t).workloads.values() for p in w.ports] for t in project.profiles}
    free = [t for t, ps in ports.items() if all(doctor.port_free(p) for p in ps)]
    if not free:
        pytest.skip("every tenant has a port in use on this machine")
    tenant = free[0]
    port = ports[tenant][0]
    with socket.socket() as s:
        s.bind(("127.0.0.1", port))
        s.listen()
        fake = engine_fake()
        c = by_name(run_checks(fake, project))[f"ports {tenant}"]
        assert c.status == ("fail" if tenant in project.app.default_tenants else "warn")
        assert str(port) in c.found and "port_base" in c.fix
        row = {"Labels": f"dev.devenv.managed=true,dev.devenv.tenant={tenant}", "Ports": f"127.0.0.1:{port}->8000/tcp"}
        fake.on("docker", "ps", stdout=json.dumps(row) + "\n")
        c = by_name(run_checks(fake, project))[f"ports {tenant}"]
        assert c.status == "ok" and "1 published by devenv's own containers" in c.found


def test_low_inotify_limit_names_the_sysctl(project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    limit = tmp_path / "max_user_watches"
    limit.write_text("8192\n")
    monkeypatch.setattr(doctor, "INOTIFY_FILE", limit)
    c = by_name(run_checks(engine_fake(), project))["inotify"]
    assert c.status == "warn" and "sudo sysctl -w fs.inotify.max_user_watches=524288" in c.fix


def test_low_disk_is_a_warning(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(doctor.shutil, "disk_usage", lambda p: type("U", (), {"free": 2 * 1024**3})())
    got = by_name(run_checks(engine_fake(), project))
    assert got["disk project"].status == "warn" and "2.0 GiB" in got["disk project"].found
    assert "docker builder prune" in got["disk docker"].fix


def test_cli_json_and_exit_status(docker_engine: None, sample: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    code = main(["doctor", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == (1 if not out["ok"] else 0)
    assert out["checks"][0]["name"] == "project" and out["checks"][0]["status"] == "ok"
    monkeypatch.setattr(doctor, "default_runner", NoKind())
    assert main(["doctor", "--backend", "kind"]) == 1
    text = capsys.readouterr().out
    assert re.search(r"^fail\s+kind\s+not installed .*\[fix: go install sigs.k8s.io/kind@v0.24.0", text, re.M)
