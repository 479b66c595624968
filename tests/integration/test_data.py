"""Tenant data on the real engine, with the sample's real Postgres and Redis (issue 14).

One lean stack serves the module: the sample with only its backing services (the app components
are disabled in this copy's devenv.local.yaml), two tenants, its own app name, compose prefix and
free port range, removed at the end. Tests run in file order and build on each other's data.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import copy_sample
from tests.integration.helpers import PREFIXES, devenv, isolate, project_containers, teardown
from tests.integration.test_faults import free_port_base, remove_everything_of

pytestmark = [pytest.mark.docker, pytest.mark.slow]
TENANTS = ["acme", "globex"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, docker_engine: None):  # type: ignore[no-untyped-def]
    import uuid

    app = f"dt{uuid.uuid4().hex[:6]}"
    root = copy_sample(tmp_path_factory.mktemp("data") / "shop")
    isolate(root, app, free_port_base(60))
    text = (root / "devenv.local.yaml").read_text().replace(
        "defaults:\n", "defaults:\n  disable: [web, api, worker, scheduler]\n", 1)
    (root / "devenv.local.yaml").write_text(text)
    (root / "seeds").mkdir()
    (root / "seeds" / "globex.sql").write_text(SEED)
    with (root / "profiles" / "globex.yaml").open("a") as f:
        f.write("seed: seeds/globex.sql\n")  # runs in the fixture's `up`: globex's first start
    try:
        devenv(root, "up", "--tenant", "acme,globex", "--detach", "--timeout", "600")
        yield root
    finally:
        teardown(root, TENANTS)
        remove_everything_of(app)


SEED = "CREATE TABLE IF NOT EXISTS seed_runs(n serial); INSERT INTO seed_runs DEFAULT VALUES;\n"


def container(root: Path, tenant: str, component: str) -> Any:
    [c] = [c for c in project_containers(_app(root), tenant) if c.labels["dev.devenv.component"] == component
           and c.status == "running"]
    return c


def _app(root: Path) -> str:
    return PREFIXES[root]


def sql(root: Path, tenant: str, statement: str) -> str:
    res = container(root, tenant, "postgres").exec_run(
        ["psql", "-X", "-qtA", "-v", "ON_ERROR_STOP=1", "-U", "shop", "-d", "shop", "-c", statement])
    assert res.exit_code == 0, res.output.decode()
    return str(res.output.decode().strip())


def redis(root: Path, tenant: str, *args: str) -> str:
    res = container(root, tenant, "redis").exec_run(["redis-cli", *args])
    assert res.exit_code == 0, res.output.decode()
    return str(res.output.decode().strip())


def test_a_profile_seed_runs_on_the_first_start_only(stack: Path) -> None:
    """The fixture's `up` was globex's first start: its seed ran once; a second `up` must not rerun
    it (each run adds a row), and acme, which names no seed, got none."""
    assert sql(stack, "globex", "SELECT count(*) FROM seed_runs") == "1"
    state = json.loads((stack / ".devenv" / "globex" / "data.json").read_text())
    assert state["seeded"] == "seeds/globex.sql" and state["seeded_volumes"]
    devenv(stack, "up", "--tenant", "globex", "--detach", "--timeout", "600")
    assert sql(stack, "globex", "SELECT count(*) FROM seed_runs") == "1"
    assert sql(stack, "acme", "SELECT to_regclass('public.seed_runs') IS NULL") == "t"


def test_restore_brings_back_one_tenants_data_and_leaves_the_other_alone(stack: Path) -> None:
    root = stack
    for t, n in (("acme", 1000), ("globex", 7)):
        sql(root, t, f"CREATE TABLE orders(id int); INSERT INTO orders SELECT generate_series(1, {n});")
        redis(root, t, "SET", "cart", f"{t}-v1")
    cp = devenv(root, "data", "snapshot", "--tenant", "acme", "before")
    assert "acme: snapshot before: 2 volume(s)" in cp.stdout
    listed = json.loads(devenv(root, "data", "list", "--json").stdout)
    [snap] = [s for s in listed if s["tenant"] == "acme" and s["name"] == "before"]
    assert snap["size"] > 0 and snap["created"] and {v["volume"] for v in snap["volumes"]} == {"pgdata", "redisdata"}
    assert snap["images"]["postgres"]["ref"].startswith(f"devenv/{_app(root)}-postgres:")

    sql(root, "acme", "DELETE FROM orders WHERE id > 10; DROP TABLE orders;")
    redis(root, "acme", "SET", "cart", "changed")
    sql(root, "globex", "INSERT INTO orders VALUES (99);")  # after acme's snapshot: must survive
    redis(root, "globex", "SET", "cart", "globex-v2")

    refused = devenv(root, "data", "restore", "--tenant", "acme", "before", check=False)
    assert refused.returncode != 0 and "--yes" in refused.stderr and "Traceback" not in refused.stderr
    assert redis(root, "acme", "GET", "cart") == "changed"

    devenv(root, "data", "restore", "--tenant", "acme", "before", "--yes")
    assert sql(root, "acme", "SELECT count(*) FROM orders") == "1000"
    assert redis(root, "acme", "GET", "cart") == "acme-v1"
    assert sql(root, "globex", "SELECT count(*) FROM orders") == "8"
    assert redis(root, "globex", "GET", "cart") == "globex-v2"


def test_bad_requests_are_clean_errors(stack: Path) -> None:
    for args, words in ((["restore", "--tenant", "acme", "nope", "--yes"], "no snapshot named 'nope'"),
                        (["snapshot", "--tenant", "acme", "../escape"], "invalid snapshot name"),
                        (["snapshot", "--tenant", "initech"], "never been started"),
                        (["snapshot", "--tenant", "acme", "before"], "already has a snapshot")):
        cp = devenv(stack, "data", *args, check=False)
        assert cp.returncode == 1 and words in cp.stderr and "Traceback" not in cp.stderr, cp.stderr
    assert not (stack / ".devenv" / "snapshots" / "escape").exists()


DUMP = """SELECT pg_catalog.set_config('search_path', '', false);
CREATE TABLE public.users (id int PRIMARY KEY, email text UNIQUE, name text, ssn text, notes text, plan text);
COPY public.users (id, email, name, ssn, notes, plan) FROM stdin;
1\talice@real.example\tAlice Real\t123-45-6789\tcalls at night\tgold
2\tbob@real.example\tBob Real\t987-65-4321\t\\N\tfree
\\.
"""
RULES = "users.email: fake\nusers:\n  name: fake\n  ssn: hash\n  notes: null\n  plan: keep\n"


def test_load_masks_inside_the_database(stack: Path, tmp_path: Path) -> None:
    (tmp_path / "dump.sql").write_text(DUMP)
    (tmp_path / "mask.yaml").write_text(RULES)
    devenv(stack, "data", "load", "--tenant", "acme", str(tmp_path / "dump.sql"), "--mask", str(tmp_path / "mask.yaml"))
    rows = sql(stack, "acme", "SELECT id, email, name, ssn, coalesce(notes, '-'), plan FROM users ORDER BY id")
    assert "real.example" not in rows and "Real" not in rows and "123-45-6789" not in rows
    first = rows.splitlines()[0].split("|")
    assert first[1].endswith("@example.invalid") and first[2].startswith("Name ") and len(first[3]) == 64
    assert first[4:] == ["-", "gold"]
    assert "users" not in sql(stack, "globex", "SELECT string_agg(tablename, ',') FROM pg_tables "
                                               "WHERE schemaname = 'public'")
    leaked = subprocess.run(["grep", "-rl", "alice@real", str(stack / ".devenv")], capture_output=True, text=True)
    assert leaked.stdout == ""


def test_a_failed_load_commits_nothing_and_custom_format_loads(stack: Path, tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("users.missing_column: hash\n")
    (tmp_path / "dump.sql").write_text(DUMP.replace("public.users", "public.people"))
    cp = devenv(stack, "data", "load", "--tenant", "acme", str(tmp_path / "dump.sql"), "--mask",
                str(tmp_path / "bad.yaml"), check=False)
    assert cp.returncode == 1 and "nothing was committed" in cp.stderr and 'column "missing_column"' in cp.stderr
    assert "people" not in sql(stack, "acme", "SELECT string_agg(tablename, ',') FROM pg_tables")
    # a pg_dump custom-format file of globex's orders, loaded into acme with --clean
    res = container(stack, "globex", "postgres").exec_run(["pg_dump", "-Fc", "-U", "shop", "-t", "orders", "shop"])
    assert res.exit_code == 0
    (tmp_path / "orders.dump").write_bytes(res.output)
    devenv(stack, "data", "load", "--tenant", "acme", str(tmp_path / "orders.dump"), "--clean")
    assert sql(stack, "acme", "SELECT count(*) FROM orders") == "8"
    assert "users" not in sql(stack, "acme", "SELECT coalesce(string_agg(tablename, ','), '') FROM pg_tables "
                                             "WHERE schemaname = 'public'")


def test_up_data_starts_a_tenant_from_a_snapshot(stack: Path) -> None:
    devenv(stack, "down", "--tenant", "acme", "--volumes")
    cp = devenv(stack, "up", "--tenant", "acme", "--data", "before", "--detach", "--timeout", "600")
    assert "runs on snapshot before" in cp.stderr
    assert sql(stack, "acme", "SELECT count(*) FROM orders") == "1000"
    assert redis(stack, "acme", "GET", "cart") == "acme-v1"
    assert sql(stack, "globex", "SELECT count(*) FROM orders") == "8"
    devenv(stack, "data", "rm", "--tenant", "acme", "before")
    assert json.loads(devenv(stack, "data", "list", "--json").stdout) == []
