"""Local secrets, the parts a user meets on disk: the per-component env files, a broken or
hand-edited store, and an unchanged file left alone. (The mutation pass showed none of these was
checked: ``bench/mutation-results.md``.)"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from test_render_support import load_sample

from devenv import secrets
from devenv.errors import DevenvError
from devenv.model import resolve
from devenv.model.types import Project, SecretRef, TenantSpec


@pytest.fixture
def project(sample: Path) -> Project:
    return load_sample(sample)


@pytest.fixture
def spec(project: Project) -> TenantSpec:
    return resolve(project, "acme")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_each_component_gets_only_its_own_secrets(sample: Path, spec: TenantSpec) -> None:
    values = secrets.local_secret_values(sample, spec)
    key = values["acme-payments"]["api-key"]
    files = secrets.write_env_files(sample, spec, values)
    assert sorted(files) == ["api", "postgres", "scheduler", "web", "worker"]  # redis has no secret: no file
    for name, path in files.items():
        assert Path(path) == secrets.component_env_file_path(sample, "acme", name)
        assert mode(Path(path)) == 0o600 and mode(Path(path).parent) == 0o700
    assert Path(files["postgres"]).read_text() == "DATABASE_PASSWORD=devpass\n"  # not the payment key
    assert Path(files["api"]).read_text() == f"DATABASE_PASSWORD=devpass\nPAYMENTS_API_KEY={key}\n"
    assert secrets.existing_env_files(sample, spec) == files


def test_existing_env_files_is_none_until_every_file_exists(sample: Path, spec: TenantSpec) -> None:
    assert secrets.existing_env_files(sample, spec) is None
    files = secrets.write_env_files(sample, spec, secrets.local_secret_values(sample, spec))
    Path(files["worker"]).unlink()
    assert secrets.existing_env_files(sample, spec) is None


def test_a_tenant_without_secrets_writes_nothing(sample: Path, project: Project) -> None:
    spec = resolve(project, "globex")
    bare = TenantSpec(**{**spec.__dict__, "workloads": {n: w for n, w in spec.workloads.items() if not w.secret_env}})
    assert secrets.write_env_files(sample, bare, {}) == {}
    assert secrets.existing_env_files(sample, bare) == {}
    assert secrets.local_secret_values(sample, bare) == dict(spec.secret_values)
    assert not secrets.secrets_file(sample, "globex").exists()  # nothing generated, nothing stored


def test_an_unchanged_env_file_is_not_rewritten(sample: Path, spec: TenantSpec) -> None:
    values = secrets.local_secret_values(sample, spec)
    path = secrets.write_env_file(sample, spec, values)
    inode, mtime = path.stat().st_ino, path.stat().st_mtime_ns
    secrets.write_env_file(sample, spec, values)
    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (inode, mtime)


@pytest.mark.parametrize("spoil", ["file-mode", "dir-mode", "content", "same-size-content", "symlink"])
def test_a_changed_or_loosened_env_file_is_rewritten_private(sample: Path, spec: TenantSpec, spoil: str) -> None:
    values = secrets.local_secret_values(sample, spec)
    path = secrets.write_env_file(sample, spec, values)
    want = path.read_text()
    if spoil == "file-mode":
        path.chmod(0o644)
    elif spoil == "dir-mode":
        path.parent.chmod(0o755)
    elif spoil == "content":
        path.write_text("DATABASE_PASSWORD=old\n")
    elif spoil == "same-size-content":
        path.write_text(want.replace("devpass", "DEVPASS"))
    else:
        target = path.with_name("elsewhere.env")
        target.write_text(want)
        target.chmod(0o600)
        path.unlink()
        path.symlink_to(target)
    secrets.write_env_file(sample, spec, values)
    assert path.read_text() == want and not path.is_symlink()
    assert mode(path) == 0o600 and mode(path.parent) == 0o700


def test_env_file_refuses_a_value_with_a_newline(sample: Path, spec: TenantSpec) -> None:
    values = {"shop-db": {"password": "two\nlines"}, "acme-payments": {"api-key": "k"}}
    with pytest.raises(DevenvError, match="shop-db/password contains a newline") as err:
        secrets.env_file_text(spec, values)
    assert err.value.hint == "use a single-line dev value"
    assert not secrets.env_file_path(sample, "acme").exists()


def test_env_file_text_for_chosen_refs_only(spec: TenantSpec) -> None:
    values = {"shop-db": {"password": "p"}, "acme-payments": {"api-key": "k"}}
    assert secrets.env_file_text(spec, values) == "DATABASE_PASSWORD=p\nPAYMENTS_API_KEY=k\n"
    assert secrets.env_file_text(spec, values, [SecretRef("acme-payments", "api-key", "KEY")]) == "KEY=k\n"
    assert secrets.env_file_text(spec, values, []) == ""


def test_missing_value_message_names_the_fix(spec: TenantSpec) -> None:
    with pytest.raises(DevenvError) as err:
        secrets.env_file_text(spec, {"shop-db": {"password": "p"}})
    assert str(err.value).startswith("no local value for secret acme-payments/api-key")
    assert "devenv.local.yaml" in (err.value.hint or "")


def test_secret_refs_distinct_in_first_seen_order(spec: TenantSpec) -> None:
    assert secrets.secret_refs(spec) == [SecretRef("shop-db", "password", "DATABASE_PASSWORD"),
                                         SecretRef("acme-payments", "api-key", "PAYMENTS_API_KEY")]


def test_store_that_is_not_an_object_is_refused(sample: Path) -> None:
    path = secrets.secrets_file(sample, "acme")
    path.parent.mkdir(parents=True)
    path.write_text('["a list"]')
    with pytest.raises(DevenvError, match="is not a JSON object") as err:
        secrets.stored_secret_values(sample, "acme")
    assert str(path) in str(err.value) and "delete the file" in (err.value.hint or "")


def test_corrupt_store_message_names_the_file_and_the_fix(sample: Path) -> None:
    path = secrets.secrets_file(sample, "acme")
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(DevenvError) as err:
        secrets.stored_secret_values(sample, "acme")
    assert str(err.value).startswith(f"cannot read local secrets {path}: ")
    assert err.value.hint and err.value.hint.startswith("delete the file")


def test_hand_edited_store_keeps_its_usable_entries_as_strings(sample: Path) -> None:
    path = secrets.secrets_file(sample, "acme")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"db": {"password": 1234, "user": "u"}, "junk": "not an object"}))
    assert secrets.stored_secret_values(sample, "acme") == {"db": {"password": "1234", "user": "u"}}


def test_merge_keeps_stored_keys_and_does_not_change_the_stored_values(spec: TenantSpec) -> None:
    stored = {"shop-db": {"password": "stale", "user": "kept"}, "other": {"k": "v"}}
    merged = secrets.merge_values(spec, stored)
    assert merged == {"shop-db": {"password": "devpass", "user": "kept"}, "other": {"k": "v"}}
    assert stored["shop-db"]["password"] == "stale"


def test_missing_refs_are_those_without_a_value(spec: TenantSpec) -> None:
    assert [r.name for r in secrets.missing_refs(spec, {"shop-db": {"password": "x"}})] == ["acme-payments"]
    assert [r.name for r in secrets.missing_refs(spec, {"acme-payments": {"other": "x"}})] == ["shop-db",
                                                                                              "acme-payments"]


def test_new_values_are_added_to_what_was_stored(sample: Path, spec: TenantSpec) -> None:
    path = secrets.secrets_file(sample, "acme")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"old-secret": {"k": "kept-value"}}))
    values = secrets.local_secret_values(sample, spec)
    stored = json.loads(path.read_text())
    assert stored == {"old-secret": {"k": "kept-value"}, "acme-payments": {"api-key": values["acme-payments"]["api-key"]}}
    assert path.read_text() == json.dumps(stored, indent=2, sort_keys=True) + "\n"
    assert len(values["acme-payments"]["api-key"]) == len(secrets_token_24())


def secrets_token_24() -> str:
    import secrets as stdlib_secrets

    return stdlib_secrets.token_urlsafe(24)


def test_masker_prefers_the_longest_value_and_takes_plain_strings() -> None:
    m = secrets.Masker(["abcd", "abcdefgh"])
    assert m.mask("x abcdefgh y abcd") == "x **** y ****"
    assert bool(m)
    assert secrets.Masker(("abc",)).mask("abc") == "abc" and not secrets.Masker(("abc",))
    same_len = secrets.Masker(["bbbb", "abbb"])
    assert same_len.mask("abbbb") == "****b"  # ties in a fixed (sorted) order, not set order


def test_unprotectable_secrets_directory_is_a_devenv_error(sample: Path, spec: TenantSpec,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(path: object, mode: int) -> None:
        raise PermissionError(1, "Operation not permitted")

    values = secrets.local_secret_values(sample, spec)
    monkeypatch.setattr(os, "chmod", refuse)
    with pytest.raises(DevenvError) as err:
        secrets.write_env_file(sample, spec, values)
    path = secrets.env_file_path(sample, "acme")
    assert err.value.message == f"cannot protect {path.parent}: Operation not permitted"
    assert err.value.hint == ("it belongs to another user: take it over (chown) or remove it, and devenv makes it "
                              "again, or run devenv where you have the rights")
    assert not path.exists()


def test_a_store_over_four_mib_is_refused_not_read(sample: Path) -> None:
    path = secrets.secrets_file(sample, "acme")
    path.parent.mkdir(parents=True)
    path.write_text(" " * (4 * 1024 * 1024 - 2) + "{}")
    assert secrets.stored_secret_values(sample, "acme") == {}  # exactly 4 MiB: read
    path.write_text(" " * (4 * 1024 * 1024 - 1) + "{}")
    with pytest.raises(DevenvError, match="larger than 4096 KiB"):
        secrets.stored_secret_values(sample, "acme")


def test_hints_name_the_fix_exactly(sample: Path, spec: TenantSpec) -> None:
    with pytest.raises(DevenvError) as err:
        secrets.env_file_text(spec, {})
    assert err.value.hint == "call local_secret_values() first, or add it under secrets: in devenv.local.yaml"
    path = secrets.secrets_file(sample, "acme")
    path.parent.mkdir(parents=True)
    path.write_text("42")
    with pytest.raises(DevenvError) as err:
        secrets.stored_secret_values(sample, "acme")
    assert err.value.hint == "delete the file; devenv generates new values"
