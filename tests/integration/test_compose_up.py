"""`devenv up` on the real engine with the real `docker compose`: two tenants side by side.

One module-scoped stack (the sample, acme + globex) serves every test here, in file order, because
bringing it up is the expensive part; each test states one property of issue 4's list.
"""

from __future__ import annotations

import json
from pathlib import Path

import docker
import pytest

from tests.conftest import copy_sample
from tests.integration.helpers import devenv, http, isolate, project_containers, teardown, wait_for

pytestmark = [pytest.mark.docker, pytest.mark.slow]
APP = "shopit"
TENANTS = ["acme", "globex"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, docker_engine: None):  # type: ignore[no-untyped-def]
    root = copy_sample(tmp_path_factory.mktemp("compose") / "shop")
    isolate(root, APP, 28000)
    teardown(root, TENANTS)
    cp = devenv(root, "up", "--tenant", "acme,globex", "--detach")
    yield root, cp
    teardown(root, TENANTS)


def status(root: Path) -> list[dict]:  # type: ignore[type-arg]
    cp = devenv(root, "status", "--json")
    return json.loads(cp.stdout)


def url_of(root: Path, tenant: str, component: str) -> str:
    rows = [r for r in status(root) if r["tenant"] == tenant and r["component"] == component]
    assert rows and rows[0]["url"], f"no url for {tenant}/{component}: {rows}"
    return rows[0]["url"]


def test_up_prints_each_tenants_urls(stack) -> None:  # type: ignore[no-untyped-def]
    root, cp = stack
    for t in TENANTS:
        assert f"{t}: " in cp.stdout and "http://127.0.0.1:" in cp.stdout


def test_status_json_has_a_record_per_component(stack) -> None:  # type: ignore[no-untyped-def]
    root, _ = stack
    rows = status(root)
    keys = {(r["tenant"], r["component"]) for r in rows}
    assert {("acme", c) for c in ("web", "api", "worker", "scheduler", "postgres", "redis")} <= keys
    assert ("globex", "scheduler") not in keys  # disabled in globex's production profile
    for r in rows:
        assert {"tenant", "component", "state", "health", "image", "url"} <= set(r)
        assert r["state"] in ("healthy", "running"), r


def test_each_web_serves_its_tenant_from_its_own_postgres(stack) -> None:  # type: ignore[no-untyped-def]
    root, _ = stack
    pages = {t: http(url_of(root, t, "web"))[1] for t in TENANTS}
    assert "ACME" in pages["acme"] and "Globex" not in pages["acme"]
    assert "Globex" in pages["globex"] and "ACME" not in pages["globex"]
    info = {t: json.loads(http(url_of(root, t, "web") + "api/info")[1]) for t in TENANTS}
    assert info["acme"]["tenant"] == "acme" and info["globex"]["tenant"] == "globex"
    assert info["acme"]["currency"] == "EUR" and info["globex"]["currency"] == "USD"


def test_a_job_is_processed_by_its_own_tenants_worker_only(stack) -> None:  # type: ignore[no-untyped-def]
    root, _ = stack
    api = url_of(root, "acme", "api")
    code, body = http(api + "jobs", {"kind": "export"})
    assert code in (200, 201, 202), body
    job_id = json.loads(body)["id"]
    done = wait_for(lambda: (j := json.loads(http(f"{api}jobs/{job_id}")[1])).get("status") == "done" and j,
                    timeout=60, what="the acme job to be done")
    acme_workers = {c.attrs["Config"]["Hostname"] for c in project_containers(APP, "acme")
                    if c.labels["dev.devenv.component"] == "worker"}
    assert done["processed_by"] in acme_workers
    code, _ = http(f"{url_of(root, 'globex', 'api')}jobs/{job_id}")
    assert code == 404 or json.loads(_).get("tenant") != "acme"


def test_ports_bind_loopback_only(stack) -> None:  # type: ignore[no-untyped-def]
    for c in project_containers(APP):
        for binds in (c.attrs["NetworkSettings"]["Ports"] or {}).values():
            for b in binds or []:
                assert b["HostIp"] == "127.0.0.1", (c.name, b)


def test_tenants_share_no_network_and_cannot_reach_each_other(stack) -> None:  # type: ignore[no-untyped-def]
    nets = {t: {n for c in project_containers(APP, t) for n in c.attrs["NetworkSettings"]["Networks"]}
            for t in TENANTS}
    assert nets["acme"] and nets["globex"] and not (nets["acme"] & nets["globex"])
    acme_web = next(c for c in project_containers(APP, "acme") if c.labels["dev.devenv.component"] == "web")

    def reaches(tenant: str) -> bool:
        pg = next(c for c in project_containers(APP, tenant) if c.labels["dev.devenv.component"] == "postgres")
        ip = next(iter(pg.attrs["NetworkSettings"]["Networks"].values()))["IPAddress"]
        probe = f"import socket,sys\ns=socket.socket();s.settimeout(2)\nsys.exit(1 if s.connect_ex(('{ip}',5432)) else 0)"
        return acme_web.exec_run(["python3", "-c", probe])[0] == 0

    assert reaches("acme"), "acme's web cannot reach its own postgres (the probe is broken)"
    assert not reaches("globex"), "acme's web reached globex's postgres"
    code, _ = acme_web.exec_run(["python3", "-c", "import socket; socket.gethostbyname('postgres')"])
    assert code == 0  # while its own postgres resolves


def test_second_up_recreates_nothing(stack) -> None:  # type: ignore[no-untyped-def]
    root, _ = stack
    before = {c.id for c in project_containers(APP)}
    devenv(root, "up", "--tenant", "acme,globex", "--detach")
    assert {c.id for c in project_containers(APP)} == before


def test_down_one_tenant_keeps_the_other_and_the_data(stack) -> None:  # type: ignore[no-untyped-def]
    root, _ = stack
    api = url_of(root, "acme", "api")
    job_id = json.loads(http(api + "jobs", {"kind": "keepme"})[1])["id"]
    wait_for(lambda: json.loads(http(f"{api}jobs/{job_id}")[1]).get("status") == "done", what="job done")
    globex_before = {c.id for c in project_containers(APP, "globex")}
    devenv(root, "down", "--tenant", "acme")
    assert project_containers(APP, "acme") == []
    assert {c.id for c in project_containers(APP, "globex")} == globex_before
    vols = docker.from_env().volumes.list(filters={"label": [f"dev.devenv.project={APP}", "dev.devenv.tenant=acme"]})
    assert vols, "acme's volumes were removed by a plain down"
    devenv(root, "up", "--tenant", "acme", "--detach")
    api = url_of(root, "acme", "api")
    job = json.loads(http(f"{api}jobs/{job_id}")[1])
    assert job.get("kind") == "keepme" and job.get("status") == "done"


def test_rendered_files_are_owner_only_and_hold_no_secret_values(stack) -> None:  # type: ignore[no-untyped-def]
    root, _ = stack
    f = root / ".devenv" / "acme" / "compose.yaml"
    assert f.stat().st_mode & 0o077 == 0
    assert "devpass" not in f.read_text()
    for env_file in (root / ".devenv" / "acme" / "secrets").glob("*.env"):  # one per component with secrets
        assert env_file.stat().st_mode & 0o077 == 0, env_file
    assert "devpass" in (root / ".devenv" / "acme" / "secrets" / "postgres.env").read_text()
    assert not (root / ".devenv" / "acme" / "secrets" / "redis.env").exists()  # redis gets no secret
