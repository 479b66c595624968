"""Snapshot storage, names, masking rules and the pure planning of restore (no Docker)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from devenv.data import mask, store
from devenv.data.volumes import dependents, tenant_volumes
from devenv.errors import ConfigError, DevenvError
from devenv.model import load_project
from devenv.model.resolve import resolve


def _snap(tenant: str = "acme", name: str = "s1", created: str = "2026-12-01T23:00:00+00:00") -> store.Snapshot:
    vol = store.VolumeEntry(volume="pgdata", component="postgres", target="/var/lib/postgresql/data",
                            file="pgdata.tar", bytes=2048, sha256="ab" * 32)
    return store.Snapshot(tenant=tenant, name=name, created=created, backend="compose", app="shop",
                          volumes=(vol,), images={"postgres": store.ImageEntry("devenv/shop-postgres:1", "sha256:x")})


def _write(root: Path, snap: store.Snapshot) -> store.Snapshot:
    with store.staging(root, snap.tenant, snap.name) as tmp:
        (tmp / "pgdata.tar").write_bytes(b"x" * 2048)
        return store.commit(tmp, snap)


@pytest.mark.parametrize("bad", ["", "..", ".", "../x", "a/b", "-rf", ".hidden", "a b", "x" * 65, "é"])
def test_bad_names_are_refused_before_they_reach_a_path(tmp_path: Path, bad: str) -> None:
    with pytest.raises(DevenvError, match="invalid snapshot name"):
        store.snapshot_dir(tmp_path, "acme", bad)
    made = tmp_path / ".devenv" / "snapshots"
    assert [p.relative_to(made) for p in made.rglob("*")] == [Path("acme")]


def test_a_committed_snapshot_is_listed_private_and_gitignored(tmp_path: Path) -> None:
    snap = _write(tmp_path, _snap())
    assert snap.path == tmp_path / ".devenv" / "snapshots" / "acme" / "s1"
    assert (tmp_path / ".devenv" / ".gitignore").read_text() == "*\n"
    for p in (snap.path, snap.path / "snapshot.json", tmp_path / ".devenv" / "snapshots"):
        mode = stat.S_IMODE(os.stat(p).st_mode)
        assert mode & 0o077 == 0, (p, oct(mode))
    [listed] = store.list_snapshots(tmp_path)
    assert (listed.name, listed.size, listed.images["postgres"].ref) == ("s1", 2048, "devenv/shop-postgres:1")
    meta = json.loads((snap.path / "snapshot.json").read_text())
    assert meta["size"] == 2048 and meta["created"] == "2026-12-01T23:00:00+00:00"


def test_a_failed_snapshot_leaves_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), store.staging(tmp_path, "acme", "broken") as tmp:
        (tmp / "pgdata.tar").write_bytes(b"half")
        raise RuntimeError("engine went away")
    assert store.list_snapshots(tmp_path) == []
    assert list((tmp_path / ".devenv" / "snapshots" / "acme").iterdir()) == []


def test_names_are_per_tenant_and_never_overwritten(tmp_path: Path) -> None:
    _write(tmp_path, _snap("acme", "s1"))
    _write(tmp_path, _snap("globex", "s1"))
    with pytest.raises(DevenvError, match="already has a snapshot named 's1'"):
        _write(tmp_path, _snap("acme", "s1"))
    assert [(s.tenant, s.name) for s in store.list_snapshots(tmp_path)] == [("acme", "s1"), ("globex", "s1")]
    assert [s.tenant for s in store.list_snapshots(tmp_path, "globex")] == ["globex"]


def test_unknown_snapshot_names_the_ones_there_are(tmp_path: Path) -> None:
    _write(tmp_path, _snap("acme", "before"))
    with pytest.raises(DevenvError) as e:
        store.read(tmp_path, "acme", "nope")
    assert "no snapshot named 'nope'" in e.value.message and "before" in e.value.hint
    with pytest.raises(DevenvError) as e2:
        store.read(tmp_path, "globex", "nope")
    assert "devenv data snapshot --tenant globex" in e2.value.hint


def test_remove_deletes_only_that_snapshot(tmp_path: Path) -> None:
    _write(tmp_path, _snap("acme", "a"))
    _write(tmp_path, _snap("acme", "b"))
    store.remove(tmp_path, "acme", "a")
    assert [s.name for s in store.list_snapshots(tmp_path)] == ["b"]


def test_the_sample_tenants_volumes_and_who_depends_on_them(sample: Path) -> None:
    spec = resolve(load_project(sample)[0], "acme", "local")
    vols = tenant_volumes(spec)
    assert [(v.key, v.name, v.components) for v in vols] == [
        ("pgdata", f"{spec.project}_pgdata", ("postgres",)), ("redisdata", f"{spec.project}_redisdata", ("redis",))]
    assert set(dependents(spec, ["postgres"])) == {"web", "api", "worker"}
    assert set(dependents(spec, ["redis"])) == {"api", "worker", "scheduler"}
    assert dependents(spec, ["web"]) == []


# --- masking rules --------------------------------------------------------------------------------

def test_rules_flat_nested_and_yaml_null(tmp_path: Path) -> None:
    f = tmp_path / "mask.yaml"
    f.write_text("users.email: fake\nbilling.cards.number: hash\nusers:\n  notes: null\n  plan: keep\n")
    rules = mask.parse_rules(f)
    assert [(r.schema, r.table, r.column, r.strategy) for r in rules] == [
        ("public", "users", "email", "fake"), ("billing", "cards", "number", "hash"),
        ("public", "users", "notes", "null"), ("public", "users", "plan", "keep")]
    sql = mask.mask_sql(rules, salt="00ff")
    assert 'UPDATE "public"."users" SET "email" = CASE WHEN "email" IS NULL' in sql
    assert '"notes" = NULL' in sql and '"plan"' not in sql
    assert "@example.invalid" in sql and "'00ff'" in sql
    assert 'UPDATE "billing"."cards" SET "number" = CASE' in sql


def test_every_bad_rule_is_reported_with_its_line(tmp_path: Path) -> None:
    f = tmp_path / "mask.yaml"
    f.write_text('users.email: scramble\n"users; drop table x": null\nusers.ok: keep\nemail: fake\n')
    with pytest.raises(ConfigError) as e:
        mask.parse_rules(f)
    lines = [(p.line, p.key) for p in e.value.problems]
    assert lines == [(1, "users.email"), (2, "users; drop table x"), (4, "email")]
    assert "one of: fake, hash, null, keep" in str(e.value)


def test_each_load_gets_its_own_salt() -> None:
    rules = [mask.Rule("public", "users", "email", "hash")]
    assert mask.mask_sql(rules) != mask.mask_sql(rules)


# --- profile seeds --------------------------------------------------------------------------------

@pytest.mark.parametrize(("yaml_text", "sql", "command", "component"), [
    ("seed: seeds/acme.sql\n", "seeds/acme.sql", None, None),
    ("seed: {sql: seeds/acme.sql}\n", "seeds/acme.sql", None, None),
    ("seed: {command: [python3, -m, seed], component: web}\n", None, ("python3", "-m", "seed"), "web"),
    ("seed: {command: make seed}\n", None, ("sh", "-c", "make seed"), None),
])
def test_a_profile_names_its_seed(sample: Path, yaml_text: str, sql: str | None,
                                  command: tuple[str, ...] | None, component: str | None) -> None:
    with (sample / "profiles" / "acme.yaml").open("a") as f:
        f.write(yaml_text)
    project, _ = load_project(sample)
    seed = project.profiles["acme"].seed
    assert seed is not None and (seed.sql, seed.command, seed.component) == (sql, command, component)
    assert project.profiles["globex"].seed is None


def test_a_seed_of_the_wrong_shape_is_reported(sample: Path) -> None:
    with (sample / "profiles" / "acme.yaml").open("a") as f:
        f.write("seed: {sql: 3, shell: x}\n")
    with pytest.raises(ConfigError) as e:
        load_project(sample)
    problems = [p for p in e.value.problems if "seed" in p.key]
    assert problems and problems[0].file.endswith("acme.yaml") and problems[0].line is not None
