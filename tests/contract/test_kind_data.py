"""``devenv data`` on kind: snapshot and restore of a tenant's claims through a helper pod, pinned as
the exact kubectl calls a cluster would receive (the ``FakeRunner`` answers as one would; no
cluster runs here). The helper pod is checked with ``kubernetes-validate --strict``.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

from devenv.backends.kind import REGISTRY_HOST, KindBackend
from devenv.data import driver_for, store
from devenv.data.kind import KindData
from devenv.data.load import load_dump
from devenv.errors import DevenvError
from devenv.model.types import Project
from tests.contract.fakerunner import FakeRunner

CTX = "kind-devenv-shop"
NS = "tenant-acme"
K8S_VERSION = "1.30.0"
MANAGED = {"dev.devenv.managed": "true", "dev.devenv.project": "shop", "dev.devenv.tenant": "acme"}
COMPONENTS = ["web", "api", "worker", "scheduler", "postgres", "redis"]


def a_tar(name: str, body: bytes) -> bytes:
    """A tar with compose's layout: one top folder ``devenv-volume``."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo(f"devenv-volume/{name}")
        info.size, info.uid = len(body), 999
        tar.addfile(info, io.BytesIO(body))
    return buf.getvalue()


PG_TAR = a_tar("PG_VERSION", b"16\n" + bytes(range(256)) * 64)  # not text: NULs and high bytes
REDIS_TAR = a_tar("dump.rdb", b"REDIS0011\x00\xfe" * 100)


def deployment(comp: str, replicas: int = 1) -> dict[str, Any]:
    return {"kind": "Deployment",
            "metadata": {"name": comp, "namespace": NS, "labels": {**MANAGED, "app.kubernetes.io/name": comp}},
            "spec": {"replicas": replicas, "template": {"spec": {"containers": [
                {"name": comp, "image": f"{REGISTRY_HOST}/devenv/shop-{comp}:0123456789abcdef"}]}}}}


def a_pod(comp: str) -> dict[str, Any]:
    return {"kind": "Pod", "metadata": {"name": f"{comp}-5d9c-abcde", "namespace": NS,
                                        "labels": {"app.kubernetes.io/name": comp, "app.kubernetes.io/instance": "acme"}},
            "spec": {"containers": [{"name": comp, "image": f"{REGISTRY_HOST}/devenv/shop-{comp}:0123456789abcdef"}]},
            "status": {"containerStatuses": [{"imageID": f"{REGISTRY_HOST}/devenv/shop-{comp}@sha256:{'ab' * 32}"}]}}


def claim(key: str, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    return {"kind": "PersistentVolumeClaim",
            "metadata": {"name": key, "namespace": NS, "labels": MANAGED, "annotations": annotations or {}}}


def cluster(fake: FakeRunner, replicas: dict[str, int] | None = None, owned: bool = True) -> FakeRunner:
    """A running acme on kind: owned namespace, its two claims, its Deployments and pods."""
    labels = MANAGED if owned else {"team": "someone-else"}
    fake.on("kubectl", "get", "namespace", NS, stdout=json.dumps({"metadata": {"name": NS, "labels": labels}}))
    fake.on("kubectl", "get", "pvc", "-n", NS, stdout=json.dumps({"items": [claim("pgdata"), claim("redisdata")]}))
    reps = {c: 1 for c in COMPONENTS} | (replicas or {})
    fake.on("kubectl", "get", "deployments", "-n", NS,
            stdout=json.dumps({"items": [deployment(c, n) for c, n in reps.items()]}))
    fake.on("kubectl", "get", "pods", "-n", NS, stdout=json.dumps({"items": [a_pod(c) for c in COMPONENTS]}))
    fake.on("kubectl", "exec", "devenv-data-postgres", "tar", data=PG_TAR)
    fake.on("kubectl", "exec", "devenv-data-redis", "tar", data=REDIS_TAR)
    return fake


def data(project: Project, fake: FakeRunner) -> KindData:
    backend = KindBackend(project, runner=fake)
    driver = driver_for(backend)
    assert isinstance(driver, KindData)
    return driver


def kubectl_calls(fake: FakeRunner) -> list[tuple[str, ...]]:
    """Every kubectl argv without the context (checked once, here) and without the reads."""
    out = []
    for c in fake.calls:
        assert c.argv[:3] == ("kubectl", "--context", CTX), c.argv
        if c.argv[3] != "get":
            out.append(c.argv[3:])
    return out


def helper_rw(key: str) -> str:
    return f"find /devenv-data/{key}/devenv-volume -mindepth 1 -delete && tar -C /devenv-data/{key} -xpf - --numeric-owner"


def around_helper(comp: str, steps: list[tuple[str, ...]]) -> list[tuple[str, ...]]:
    name = f"devenv-data-{comp}"
    return [("delete", "pod", name, "-n", NS, "--ignore-not-found", "--wait=true"),
            ("create", "-n", NS, "-f", "-"),
            ("wait", "--for=condition=Ready", f"pod/{name}", "-n", NS, "--timeout=120s"),
            *steps,
            ("delete", "pod", name, "-n", NS, "--ignore-not-found", "--wait=true")]


def scale(comps: list[str], n: int) -> list[tuple[str, ...]]:
    return [("scale", f"deployment/{c}", f"--replicas={n}", "-n", NS) for c in comps]


def gone(comps: list[str]) -> tuple[str, ...]:
    return ("wait", "--for=delete", "pod", "-n", NS, "-l",
            f"app.kubernetes.io/instance=acme,app.kubernetes.io/name in ({','.join(comps)})", "--timeout=120s")


def rollout(comps: list[str]) -> list[tuple[str, ...]]:
    return [("rollout", "status", f"deployment/{c}", "-n", NS, "--timeout=300s") for c in comps]


def snapshot_steps(comp: str, key: str) -> list[tuple[str, ...]]:
    out = ("exec", f"devenv-data-{comp}", "-n", NS, "-c", "copy", "--", "tar", "-C", f"/devenv-data/{key}", "-cf",
           "-", "devenv-volume")
    return [*scale([comp], 0), gone([comp]), *around_helper(comp, [out]), *scale([comp], 1), *rollout([comp])]


# -- snapshot ----------------------------------------------------------------------------------------

def test_snapshot_is_this_exact_kubectl_sequence_per_stateful_component(project: Project, sample: Path) -> None:
    fake = cluster(FakeRunner())
    snap = data(project, fake).snapshot("acme", "before")
    assert kubectl_calls(fake) == [*snapshot_steps("postgres", "pgdata"), *snapshot_steps("redis", "redisdata")]
    assert snap.path is not None
    assert (snap.path / "pgdata.tar").read_bytes() == PG_TAR and (snap.path / "redisdata.tar").read_bytes() == REDIS_TAR
    assert oct((snap.path / "pgdata.tar").stat().st_mode & 0o777) == "0o600"


def test_snapshot_metadata_has_compose_shape(project: Project, sample: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    from devenv import cli

    data(project, cluster(FakeRunner())).snapshot("acme", "before")
    assert cli.main(["data", "list", "--json"]) == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert set(listed) == {"tenant", "name", "created", "backend", "app", "volumes", "images", "size", "path"}
    assert (listed["tenant"], listed["name"], listed["backend"], listed["app"]) == ("acme", "before", "kind", "shop")
    assert listed["size"] == len(PG_TAR) + len(REDIS_TAR)
    assert listed["volumes"][0] == {"volume": "pgdata", "component": "postgres", "target": "/var/lib/postgresql/data",
                                    "file": "pgdata.tar", "bytes": len(PG_TAR),
                                    "sha256": hashlib.sha256(PG_TAR).hexdigest()}
    # the builder's reference (the registry's host taken off, as compose records it) and the image id
    assert listed["images"]["postgres"] == {"ref": "devenv/shop-postgres:0123456789abcdef",
                                            "id": f"{REGISTRY_HOST}/devenv/shop-postgres@sha256:{'ab' * 32}"}
    assert set(listed["images"]) == set(COMPONENTS)


def test_helper_pod_is_valid_strict_and_mounts_only_the_owners_claims(project: Project, sample: Path) -> None:
    fake = cluster(FakeRunner())
    data(project, fake).snapshot("acme", "before")
    pods = [yaml.safe_load(c.input or "") for c in fake.find("kubectl", "create", "-f", "-")]
    assert [p["metadata"]["name"] for p in pods] == ["devenv-data-postgres", "devenv-data-redis"]
    for pod in pods:
        kubernetes_validate.validate(pod, K8S_VERSION, strict=True)
        assert pod["metadata"]["namespace"] == NS and "dev.devenv.managed" not in pod["metadata"]["labels"]
        assert pod["spec"]["nodeSelector"] == {"devenv.dev/pool": "dedicated", "devenv.dev/tenant": "acme"}
        [c] = pod["spec"]["containers"]
        assert c["image"] == f"{REGISTRY_HOST}/devenv/shop-{pod['metadata']['labels']['dev.devenv.data-helper']}:0123456789abcdef"
        assert c["securityContext"] == {"runAsUser": 0, "runAsGroup": 0}
    pg = pods[0]["spec"]
    assert pg["volumes"] == [{"name": "pgdata", "persistentVolumeClaim": {"claimName": "pgdata", "readOnly": True}}]
    assert pg["containers"][0]["volumeMounts"] == [
        {"name": "pgdata", "mountPath": "/devenv-data/pgdata/devenv-volume", "readOnly": True}]


def test_no_other_namespace_is_ever_named(project: Project, sample: Path) -> None:
    fake = cluster(FakeRunner())
    d = data(project, fake)
    d.snapshot("acme", "before")
    d.restore("acme", "before")
    for c in fake.calls:
        assert "-A" not in c.argv and "--all-namespaces" not in c.argv, c.argv
        named = [c.argv[i + 1] for i in range(len(c.argv) - 1) if c.argv[i] == "-n"]
        assert named == [NS] or c.argv[3:5] == ("get", "namespace"), c.argv
        assert not any("globex" in a or "initech" in a for a in c.argv), c.argv
        assert "globex" not in (c.input or "")


def test_a_stopped_component_is_neither_scaled_down_nor_up(project: Project, sample: Path) -> None:
    fake = cluster(FakeRunner(), replicas={"redis": 0})
    data(project, fake).snapshot("acme", "before")
    assert not fake.find("kubectl", "scale", "deployment/redis")
    assert fake.find("kubectl", "exec", "devenv-data-redis", "tar")


def test_helper_never_ready_leaves_no_snapshot_and_scales_back(project: Project, sample: Path) -> None:
    fake = cluster(FakeRunner())
    fake.on("kubectl", "wait", "--for=condition=Ready", "pod/devenv-data-postgres", code=1,
            stderr="error: timed out waiting for the condition on pods/devenv-data-postgres")
    with pytest.raises(DevenvError) as err:
        data(project, fake).snapshot("acme", "before")
    assert "did not become ready" in err.value.message and "describe pod/devenv-data-postgres" in err.value.hint
    calls = kubectl_calls(fake)
    assert calls == [*scale(["postgres"], 0), gone(["postgres"]), *around_helper("postgres", [])[:3],
                     ("delete", "pod", "devenv-data-postgres", "-n", NS, "--ignore-not-found", "--wait=true"),
                     *scale(["postgres"], 1), *rollout(["postgres"])]
    assert_no_snapshot(sample)


def test_tar_failing_mid_stream_leaves_no_half_snapshot(project: Project, sample: Path) -> None:
    fake = cluster(FakeRunner())
    fake.on("kubectl", "exec", "devenv-data-redis", "tar", code=1, data=REDIS_TAR[:700],
            stderr="tar: dump.rdb: file changed as we read it")
    with pytest.raises(DevenvError) as err:
        data(project, fake).snapshot("acme", "before")
    assert "copying claim redisdata" in err.value.message and "file changed" in err.value.message
    calls = kubectl_calls(fake)
    assert calls[-3:] == [("delete", "pod", "devenv-data-redis", "-n", NS, "--ignore-not-found", "--wait=true"),
                          *scale(["redis"], 1), *rollout(["redis"])]
    assert calls.count(scale(["postgres"], 1)[0]) == 1  # postgres came back after its own copy
    assert_no_snapshot(sample)


def test_a_failed_rollout_after_a_failed_copy_keeps_the_copys_error(project: Project, sample: Path) -> None:
    fake = cluster(FakeRunner())
    fake.on("kubectl", "exec", "devenv-data-postgres", "tar", code=2, stderr="tar: short read")
    fake.on("kubectl", "rollout", "status", "deployment/postgres", code=1, stderr="deadline exceeded")
    said: list[str] = []
    d = data(project, fake)
    d.say = said.append
    with pytest.raises(DevenvError, match="short read"):
        d.snapshot("acme", "before")
    assert any("postgres: deadline exceeded" in s for s in said)
    assert_no_snapshot(sample)


def assert_no_snapshot(root: Path) -> None:
    assert store.list_snapshots(root) == []
    tenant_dir = root / ".devenv" / "snapshots" / "acme"
    assert not tenant_dir.exists() or list(tenant_dir.iterdir()) == []  # no staging folder left behind


def test_a_namespace_devenv_did_not_label_is_refused_untouched(project: Project, sample: Path) -> None:
    fake = cluster(FakeRunner(), owned=False)
    with pytest.raises(DevenvError, match="did not create it"):
        data(project, fake).snapshot("acme", "before")
    assert kubectl_calls(fake) == []


def test_a_tenant_never_started_on_kind_is_told_so(project: Project, sample: Path) -> None:
    fake = FakeRunner().on("kubectl", "get", "namespace", code=1, stderr='namespaces "tenant-acme" not found')
    with pytest.raises(DevenvError, match="never been started on kind") as err:
        data(project, fake).snapshot("acme", "before")
    assert "--backend kind" in err.value.hint and kubectl_calls(fake) == []


# -- restore -----------------------------------------------------------------------------------------

def test_restore_is_this_exact_sequence_and_streams_the_snapshots_bytes(project: Project, sample: Path) -> None:
    fake = cluster(FakeRunner())
    d = data(project, fake)
    d.snapshot("acme", "before")
    fake.calls.clear()
    d.restore("acme", "before")
    calls = kubectl_calls(fake)
    stopped = ["web", "api", "worker", "scheduler", "postgres", "redis"]  # dependents first

    def copy_in(comp: str, key: str) -> list[tuple[str, ...]]:
        return around_helper(comp, [
            ("exec", "-i", f"devenv-data-{comp}", "-n", NS, "-c", "copy", "--", "sh", "-c", helper_rw(key)),
            ("annotate", "pvc", key, "-n", NS, calls[calls.index(("create", "-n", NS, "-f", "-")) + 3][5], "--overwrite")])

    assert calls == [*scale(stopped, 0), gone(stopped), *copy_in("postgres", "pgdata"),
                     *copy_in("redis", "redisdata"), *scale(stopped[::-1], 1), *rollout(stopped[::-1])]
    ann = [c for c in calls if c[0] == "annotate"][0][5]
    assert ann.startswith("dev.devenv.data-id=before@")
    [pg_in] = fake.find("kubectl", "exec", "-i", "devenv-data-postgres")
    [redis_in] = fake.find("kubectl", "exec", "-i", "devenv-data-redis")
    assert pg_in.stdin == PG_TAR and redis_in.stdin == REDIS_TAR
    helpers = [yaml.safe_load(c.input or "") for c in fake.find("kubectl", "create", "-f", "-")]
    for pod in helpers:
        kubernetes_validate.validate(pod, K8S_VERSION, strict=True)
        assert pod["spec"]["volumes"][0]["persistentVolumeClaim"]["readOnly"] is False


def test_restore_records_which_snapshot_the_tenant_runs_on(project: Project, sample: Path) -> None:
    fake = cluster(FakeRunner())
    d = data(project, fake)
    d.snapshot("acme", "before")
    d.restore("acme", "before")
    ann = next(c.argv[-2] for c in fake.calls if c.argv[3] == "annotate").split("=", 1)[1]
    # the cluster now answers with the annotated claims, as it would after the restore
    fake.on("kubectl", "get", "pvc", "-n", NS, stdout=json.dumps({"items": [
        claim("pgdata", {"dev.devenv.data-id": ann}), claim("redisdata", {"dev.devenv.data-id": ann})]}))
    state = store.read_state(sample, "acme")
    state["volumes"] = d.volume_ids("acme")  # the fake answered the write-time read without them
    store.write_state(sample, "acme", state)
    assert d.current("acme") == "before"
    fake.on("kubectl", "get", "pvc", "-n", NS, stdout=json.dumps({"items": [claim("pgdata"), claim("redisdata")]}))
    assert d.current("acme") == ""  # recreated claims do not claim the snapshot


def test_restore_refuses_a_damaged_snapshot_before_touching_the_cluster(project: Project, sample: Path) -> None:
    fake = cluster(FakeRunner())
    d = data(project, fake)
    snap = d.snapshot("acme", "before")
    assert snap.path is not None
    (snap.path / "redisdata.tar").write_bytes(REDIS_TAR[:100])
    fake.calls.clear()
    with pytest.raises(DevenvError, match="does not match its recorded digest"):
        d.restore("acme", "before")
    assert fake.calls == []


def test_a_failed_copy_in_scales_everything_back_and_says_restore_again(project: Project, sample: Path) -> None:
    fake = cluster(FakeRunner())
    d = data(project, fake)
    d.snapshot("acme", "before")
    fake.on("kubectl", "exec", "-i", "devenv-data-postgres", code=2, stderr="tar: Unexpected EOF in archive")
    fake.calls.clear()
    with pytest.raises(DevenvError) as err:
        d.restore("acme", "before")
    assert "Unexpected EOF" in err.value.message and "restore again" in err.value.hint
    calls = kubectl_calls(fake)
    stopped = ["web", "api", "worker", "scheduler", "postgres", "redis"]
    assert calls[-12:] == [*scale(stopped[::-1], 1), *rollout(stopped[::-1])]
    assert not fake.find("kubectl", "exec", "-i", "devenv-data-redis")  # it stopped at the first failure
    assert not fake.find("kubectl", "annotate")


# -- load (and SQL seeds, which load the same way) --------------------------------------------------

def test_load_streams_the_dump_into_psql_in_the_tenants_postgres_pod(project: Project, sample: Path) -> None:
    from devenv.data.load import SCRIPT

    fake = cluster(FakeRunner())
    fake.on("kubectl", "exec", "deployment/postgres", "sh", "-c", stdout="POSTGRES_USER=shop\nPOSTGRES_DB=shopdb\n")
    dump = b"COPY public.t (b) FROM stdin;\n\\x00ff\xe9\n\\.\n"  # not UTF-8
    (sample / "dump.sql").write_bytes(dump)
    (sample / "mask.yaml").write_text("users.email: fake\n")
    got = load_dump(data(project, fake), "acme", str(sample / "dump.sql"), mask_file=str(sample / "mask.yaml"))
    assert got["format"] == "plain" and got["masked"] == ["public.users.email:fake"]
    env_read, load = kubectl_calls(fake)
    assert env_read == ("exec", "deployment/postgres", "-n", NS, "-c", "postgres", "--", "sh", "-c",
                        'echo "POSTGRES_USER=$POSTGRES_USER"; echo "POSTGRES_DB=$POSTGRES_DB"')
    assert load[:8] == ("exec", "-i", "deployment/postgres", "-n", NS, "-c", "postgres", "--")
    assert load[-3:] == ("sh", "-c", SCRIPT)
    env = dict(a.split("=", 1) for a in load[9:-3])
    assert load[8] == "env" and (env["DEVENV_PG_USER"], env["DEVENV_PG_DB"], env["DEVENV_DECODE"]) == ("shop", "shopdb", "cat")
    assert "UPDATE" in env["DEVENV_MASK_SQL"] and '"email"' in env["DEVENV_MASK_SQL"]
    [call] = fake.find("kubectl", "exec", "-i", "deployment/postgres")
    assert call.stdin == dump
    assert store.read_state(sample, "acme")["loaded"] == "dump.sql"


def test_a_failed_load_on_kind_says_nothing_was_committed(project: Project, sample: Path) -> None:
    fake = cluster(FakeRunner())
    fake.on("kubectl", "exec", "-i", "deployment/postgres", code=3,
            stderr='ERROR:  column "missing" of relation "users" does not exist')
    (sample / "dump.sql").write_text("SELECT 1;\n")
    with pytest.raises(DevenvError) as err:
        load_dump(data(project, fake), "acme", str(sample / "dump.sql"))
    assert "nothing was committed" in err.value.message and 'column "missing"' in err.value.message
    assert "loaded" not in store.read_state(sample, "acme")


def test_load_into_a_postgres_that_does_not_run_is_refused(project: Project, sample: Path) -> None:
    fake = cluster(FakeRunner())
    fake.on("kubectl", "exec", "deployment/postgres", code=1, stderr="error: unable to upgrade connection: pod not ready")
    (sample / "dump.sql").write_text("SELECT 1;\n")
    with pytest.raises(DevenvError, match="not running on kind") as err:
        load_dump(data(project, fake), "acme", str(sample / "dump.sql"))
    assert "--backend kind" in err.value.hint
    assert not fake.find("kubectl", "exec", "-i")


def test_kind_declares_data_through_the_contract() -> None:
    from devenv.backends.base import Backend

    assert Backend.data_unsupported == KindBackend.data_unsupported == ""


# -- up on kind: a seed on the first start -----------------------------------------------------------

def seeded_project(sample: Path) -> Project:
    from devenv.model import load_project

    (sample / "seeds").mkdir()
    (sample / "seeds" / "acme.sql").write_bytes(b"INSERT INTO t VALUES ('\xc3\xa9');\n")
    with (sample / "profiles" / "acme.yaml").open("a") as f:
        f.write("seed: seeds/acme.sql\n")
    return load_project(sample)[0]


def kind_up(project: Project, fake: FakeRunner) -> Any:
    """What ``prepare_up`` sees of an engine: its backend, project, data driver and subscribers."""
    from types import SimpleNamespace

    subscribers: list[Any] = []
    return SimpleNamespace(backend=KindBackend(project, runner=fake), project=project, data=None,
                           subscribe=subscribers.append, subscribers=subscribers)


@pytest.mark.parametrize(("claims", "seeds"), [([], True), (["pgdata", "redisdata"], False)])
def test_up_on_kind_seeds_only_a_tenant_without_claims(sample: Path, claims: list[str], seeds: bool) -> None:
    import argparse

    from devenv.commands.data import Seeder, prepare_up, run_seed

    project = seeded_project(sample)
    fake = cluster(FakeRunner())
    fake.on("kubectl", "get", "pvc", "-n", NS, stdout=json.dumps({"items": [claim(c) for c in claims]}))
    engine = kind_up(project, fake)
    prepare_up(engine, argparse.Namespace(data=None, detach=False, backend="kind"), ["acme"])
    assert isinstance(engine.data, KindData)  # the TUI's snapshot/restore keys work on kind
    seeders = [s for s in engine.subscribers if isinstance(s, Seeder)]
    assert [s.pending for s in seeders] == ([{"acme"}] if seeds else [])
    if seeds:  # what the seeder then runs once acme is up: the SQL file through kubectl exec -i
        assert run_seed(seeders[0].data, "acme") == "seeds/acme.sql"
        [load] = fake.find("kubectl", "exec", "-i", "deployment/postgres", "-n", NS)
        assert load.stdin == (sample / "seeds" / "acme.sql").read_bytes()
        assert store.read_state(sample, "acme")["seeded"] == "seeds/acme.sql"
    assert not any("globex" in a for c in fake.calls for a in c.argv)


# -- one store for both backends --------------------------------------------------------------------

def compose_snapshot(root: Path, tenant: str, name: str) -> store.Snapshot:
    """A snapshot as ``ComposeData`` writes it (same tar layout: the archive API's ``devenv-volume``)."""
    entries = []
    with store.staging(root, tenant, name) as tmp:
        for key, comp, target, body in (("pgdata", "postgres", "/var/lib/postgresql/data", PG_TAR),
                                        ("redisdata", "redis", "/data", REDIS_TAR)):
            (tmp / f"{key}.tar").write_bytes(body)
            entries.append(store.VolumeEntry(key, comp, target, f"{key}.tar", len(body), hashlib.sha256(body).hexdigest()))
        snap = store.Snapshot(tenant=tenant, name=name, created=store.now_iso(), backend="compose", app="shop",
                              volumes=tuple(entries), images={"postgres": store.ImageEntry("devenv/shop-postgres:1", "sha256:1")})
        return store.commit(tmp, snap)


def test_both_backends_share_one_store_and_list_them_alike(project: Project, sample: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from devenv import cli

    data(project, cluster(FakeRunner())).snapshot("acme", "on-kind")
    compose_snapshot(sample, "globex", "on-compose")
    assert cli.main(["data", "list", "--json"]) == 0
    kind_snap, compose_snap = json.loads(capsys.readouterr().out)
    assert (kind_snap["backend"], compose_snap["backend"]) == ("kind", "compose")

    def shape(x: Any) -> Any:  # keys all the way down, values left out
        if isinstance(x, dict):
            return {k: shape(v) for k, v in x.items() if k != "images"} | (
                {"images": sorted({tuple(sorted(v)) for v in x["images"].values()})} if "images" in x else {})
        if isinstance(x, list):
            return [shape(v) for v in x]
        return type(x).__name__

    assert shape(kind_snap) == shape(compose_snap)
    assert cli.main(["data", "rm", "--tenant", "acme", "on-kind"]) == 0
    assert [(s.tenant, s.name) for s in store.list_snapshots(sample)] == [("globex", "on-compose")]


def test_a_snapshot_taken_on_compose_restores_on_kind(project: Project, sample: Path) -> None:
    compose_snapshot(sample, "acme", "from-compose")
    fake = cluster(FakeRunner())
    data(project, fake).restore("acme", "from-compose")
    assert [c.stdin for c in fake.find("kubectl", "exec", "-i")] == [PG_TAR, REDIS_TAR]
