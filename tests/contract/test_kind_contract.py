"""The kind backend's contract: the exact kind/kubectl/docker calls it makes, with a fake Runner.

No cluster runs here (kind cannot run on CI's machine); ``tests/e2e/kind.sh`` runs the real flow on
a laptop with kind. What these tests pin is what a cluster would receive: argv, context, stdin.
"""

from __future__ import annotations

import base64
import io
import json
import tarfile
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from devenv.backends import get_backend
from devenv.backends.base import SyncFile
from devenv.backends.kind import KindBackend, node_label_problems, registry_ref
from devenv.errors import DevenvError, EngineError, ToolMissing
from devenv.events import ComponentState, Event, Timeline
from devenv.model.resolve import resolve
from devenv.model.types import Project
from devenv.render.kind_cluster import cluster_satisfies
from tests.contract.fakerunner import FakeRunner

CTX = "kind-devenv-shop"
NODES = {"items": [
    {"metadata": {"name": "devenv-shop-control-plane", "labels": {"kubernetes.io/hostname": "cp"}}},
    {"metadata": {"name": "devenv-shop-worker", "labels": {"devenv.dev/pool": "dedicated", "devenv.dev/tenant": "acme"}}},
    {"metadata": {"name": "devenv-shop-worker2", "labels": {"devenv.dev/pool": "shared", "devenv.dev/tier": "burst"}}},
]}


def images(project: Project) -> dict[str, str]:
    return {k: f"devenv/shop-{k}:{'0123456789abcdef'}" for k in project.app.images}


def has_pair(argv: tuple[str, ...], flag: str, value: str) -> bool:
    return any(argv[i] == flag and argv[i + 1] == value for i in range(len(argv) - 1))


def ns_json(labels: dict[str, str]) -> str:
    return json.dumps({"kind": "Namespace", "metadata": {"name": "tenant-acme", "labels": labels}})


MANAGED = {"dev.devenv.managed": "true", "dev.devenv.project": "shop", "dev.devenv.tenant": "acme"}


def existing_cluster(fake: FakeRunner, registry: bool = True) -> FakeRunner:
    """A running cluster whose nodes fit every tenant, and (optionally) a running registry."""
    fake.on("kind", "get", "clusters", stdout="devenv-shop\n")
    fake.on("kubectl", "get", "nodes", stdout=json.dumps(NODES))
    fake.on("kind", "get", "nodes", stdout="devenv-shop-control-plane\ndevenv-shop-worker\n")
    fake.on("kubectl", "get", "namespace", code=1, stderr='Error from server (NotFound): namespaces "x" not found')
    if registry:
        fake.on("docker", "inspect", "{{.State.Running}}", "devenv-registry", stdout="true\n")
        fake.on("docker", "inspect", "{{json .NetworkSettings.Networks}}", stdout='{"bridge": {}, "kind": {}}')
    else:
        no_registry(fake)
    return fake


def no_registry(fake: FakeRunner) -> None:
    """This machine: no registry container, no registry:2 image, no way to pull one."""
    fake.on("docker", "inspect", "{{.State.Running}}", "devenv-registry", code=1, stderr="Error: No such object")
    fake.on("docker", "image", "inspect", "registry:2", code=1)
    fake.on("docker", "pull", "registry:2", code=1, stderr="dial tcp: lookup registry-1.docker.io: no such host")


# -- check(): before anything starts --------------------------------------------------------------

@pytest.mark.parametrize("missing", ["kind", "kubectl"])
def test_missing_tool_raises_before_any_call(project: Project, missing: str) -> None:
    fake = FakeRunner(tools=[t for t in ("kind", "kubectl", "docker") if t != missing])
    with pytest.raises(ToolMissing) as err:
        KindBackend(project, runner=fake).check()
    assert f"'{missing}'" in err.value.message
    if missing == "kind":
        assert "go install sigs.k8s.io/kind@v0.24.0" in err.value.hint
        assert "brew install kind" in err.value.hint
    assert fake.calls == []


def test_unreachable_engine_is_an_engine_error(project: Project, fake: FakeRunner) -> None:
    fake.on("docker", "info", code=1, stderr="Cannot connect to the Docker daemon")
    with pytest.raises(EngineError):
        KindBackend(project, runner=fake).check()
    assert [c.argv[:2] for c in fake.calls] == [("docker", "info")]


def test_check_passes_with_tools_and_engine(project: Project, fake: FakeRunner) -> None:
    fake.on("docker", "info", stdout="27.3.1\n")
    KindBackend(project, runner=fake).check()
    assert len(fake.calls) == 1


def test_get_backend_returns_kind_and_refuses_unknown(project: Project, fake: FakeRunner) -> None:
    b = get_backend("kind", project, None, runner=fake, context="kind-other")
    assert isinstance(b, KindBackend) and b.context == "kind-other"
    with pytest.raises(DevenvError, match="unknown backend"):
        get_backend("nomad", project)


# -- cluster lifecycle and the registry -----------------------------------------------------------

def test_creates_cluster_with_config_on_stdin_and_wires_registry(project: Project, fake: FakeRunner) -> None:
    fake.on("kind", "get", "clusters", stdout="someone-else\n")
    fake.on("docker", "inspect", "{{.State.Running}}", "devenv-registry", code=1, stderr="No such object")
    fake.on("docker", "image", "inspect", "registry:2")
    fake.on("docker", "inspect", "{{json .NetworkSettings.Networks}}", stdout='{"bridge": {}}')
    fake.on("kind", "get", "nodes", stdout="devenv-shop-control-plane\ndevenv-shop-worker\n")
    KindBackend(project, runner=fake).ensure_cluster()

    [create] = fake.find("kind", "create", "cluster")
    assert create.argv == ("kind", "create", "cluster", "--name", "devenv-shop", "--config", "-")
    config = yaml.safe_load(create.input or "")
    assert config["kind"] == "Cluster" and config["name"] == "devenv-shop"
    specs = [resolve(project, t) for t in project.profiles]
    assert cluster_satisfies(config, specs) == []  # created for every tenant, not only the first one up
    assert any('config_path = "/etc/containerd/certs.d"' in p for p in config["containerdConfigPatches"])

    [run] = fake.argvs("docker", "run")
    assert has_pair(run, "-p", "127.0.0.1:5001:5000") and has_pair(run, "--name", "devenv-registry")
    assert has_pair(run, "--label", "dev.devenv.managed=true") and run[-1] == "registry:2"
    argvs = [c.argv for c in fake.calls]
    assert argvs.index(run) < argvs.index(create.argv)  # kind's recipe: registry first, then cluster
    assert fake.argvs("docker", "network", "connect") == [("docker", "network", "connect", "kind", "devenv-registry")]
    for node in ("devenv-shop-control-plane", "devenv-shop-worker"):
        assert ("docker", "exec", node, "mkdir", "-p", "/etc/containerd/certs.d/localhost:5001") in argvs
        [cp] = fake.find("docker", "exec", "-i", node, "cp")
        assert cp.argv[-2:] == ("/dev/stdin", "/etc/containerd/certs.d/localhost:5001/hosts.toml")
        assert cp.input == '[host."http://devenv-registry:5000"]\n'
    [cm_apply] = fake.find("kubectl", "apply")
    cm = yaml.safe_load(cm_apply.input or "")
    assert cm["metadata"] == {"name": "local-registry-hosting", "namespace": "kube-public"}
    assert 'host: "localhost:5001"' in cm["data"]["localRegistryHosting.v1"]
    assert has_pair(cm_apply.argv, "--context", CTX)


def test_existing_cluster_is_verified_not_recreated(project: Project, fake: FakeRunner) -> None:
    existing_cluster(fake)
    KindBackend(project, runner=fake).ensure_cluster()
    assert fake.find("kind", "create") == []
    [nodes] = fake.argvs("kubectl", "get", "nodes")
    assert has_pair(nodes, "--context", CTX) and has_pair(nodes, "-o", "json")
    assert fake.argvs("docker", "network", "connect") == []  # already on the kind network


def test_existing_cluster_without_a_tenants_labels_says_how_to_recreate(project: Project, fake: FakeRunner) -> None:
    existing_cluster(fake)
    fake.on("kubectl", "get", "nodes", stdout=json.dumps({"items": NODES["items"][:1]}))
    with pytest.raises(DevenvError) as err:
        KindBackend(project, runner=fake).ensure_cluster([resolve(project, "acme")])
    assert "devenv.dev/pool=dedicated" in err.value.message
    assert "devenv down --backend kind --cluster" in err.value.hint
    assert fake.find("kind", "create") == [] and fake.find("kind", "delete") == []


def test_node_label_problems_is_exact(project: Project) -> None:
    specs = [resolve(project, t) for t in project.profiles]
    assert node_label_problems(NODES, specs) == []
    only_shared = {"items": [{"metadata": {"labels": {"devenv.dev/pool": "shared"}}}]}
    problems = node_label_problems(only_shared, specs)
    assert len(problems) == 2 and "tenant acme" in problems[0] and "tenant initech" in problems[1]


def test_delete_cluster(project: Project, fake: FakeRunner) -> None:
    existing_cluster(fake)
    KindBackend(project, runner=fake).delete_cluster()
    assert fake.argvs("kind", "delete") == [("kind", "delete", "cluster", "--name", "devenv-shop")]


# -- image delivery --------------------------------------------------------------------------------

def test_images_go_through_the_registry(project: Project, fake: FakeRunner) -> None:
    existing_cluster(fake)
    out = KindBackend(project, runner=fake).load_images(["devenv/shop-web:abc"])
    assert out == {"devenv/shop-web:abc": "localhost:5001/devenv/shop-web:abc"}
    assert fake.argvs("docker", "tag") == [("docker", "tag", "devenv/shop-web:abc", "localhost:5001/devenv/shop-web:abc")]
    assert fake.argvs("docker", "push") == [("docker", "push", "localhost:5001/devenv/shop-web:abc")]
    assert fake.find("kind", "load") == []


def test_registry_ref_replaces_a_registry_host() -> None:
    assert registry_ref("registry.shop.example/shop/web:1") == "localhost:5001/shop/web:1"
    assert registry_ref("localhost:5001/devenv/x:1") == "localhost:5001/devenv/x:1"
    assert registry_ref("devenv/shop-api:f00") == "localhost:5001/devenv/shop-api:f00"


def test_without_a_registry_images_fall_back_to_kind_load_and_say_so(project: Project, fake: FakeRunner) -> None:
    no_registry(fake)
    events: list[Event] = []
    out = KindBackend(project, events.append, runner=fake).load_images(["devenv/shop-web:abc", "devenv/shop-api:def"])
    assert out == {"devenv/shop-web:abc": "devenv/shop-web:abc", "devenv/shop-api:def": "devenv/shop-api:def"}
    assert fake.argvs("kind", "load") == [
        ("kind", "load", "docker-image", "--name", "devenv-shop", "devenv/shop-web:abc", "devenv/shop-api:def")]
    assert fake.find("docker", "push") == [] and fake.find("docker", "run") == []
    warns = [e for e in events if isinstance(e, Timeline) and e.kind == "warn"]
    assert warns and "registry:2" in warns[0].message and "kind load" in warns[0].message


def test_without_a_registry_the_cluster_is_not_wired_to_one(project: Project, fake: FakeRunner) -> None:
    existing_cluster(fake, registry=False)
    KindBackend(project, runner=fake).ensure_cluster()
    assert fake.find("docker", "network") == [] and fake.find("docker", "exec") == []
    assert fake.find("kubectl", "apply") == []


# -- up, redeploy ----------------------------------------------------------------------------------

def _applied_tenant_docs(fake: FakeRunner, namespace: str) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    [call] = [c for c in fake.find("kubectl", "apply") if f"name: {namespace}" in (c.input or "")]
    return call.argv, [d for d in yaml.safe_load_all(call.input or "") if d]


def test_up_applies_server_side_with_context_then_waits_per_deployment(project: Project, fake: FakeRunner) -> None:
    existing_cluster(fake)
    events: list[Event] = []
    spec = resolve(project, "acme")
    KindBackend(project, events.append, runner=fake).up(spec, images(project), timeout=120)

    argv, docs = _applied_tenant_docs(fake, "tenant-acme")
    assert argv[:3] == ("kubectl", "--context", CTX)
    assert "--server-side" in argv and has_pair(argv, "--field-manager", "devenv") and has_pair(argv, "-f", "-")
    [ns] = [d for d in docs if d["kind"] == "Namespace"]
    assert ns["metadata"]["name"] == "tenant-acme" and ns["metadata"]["labels"]["dev.devenv.managed"] == "true"
    deps = [d for d in docs if d["kind"] == "Deployment"]
    assert sorted(d["metadata"]["name"] for d in deps) == sorted(spec.workloads)
    for d in deps:
        assert d["metadata"]["namespace"] == "tenant-acme"
        assert d["spec"]["template"]["spec"]["nodeSelector"] == spec.node_selector
        assert d["spec"]["template"]["spec"]["containers"][0]["image"].startswith("localhost:5001/devenv/shop-")
    assert any(d["kind"] == "NetworkPolicy" for d in docs)

    rollouts = fake.argvs("kubectl", "rollout", "status")
    assert [a[a.index("status") + 1] for a in rollouts] == [f"deployment/{d['metadata']['name']}" for d in deps]
    for a in rollouts:
        assert has_pair(a, "-n", "tenant-acme") and has_pair(a, "--context", CTX)
        assert any(x.startswith("--timeout=") for x in a)
    healthy = {e.component for e in events if isinstance(e, ComponentState) and e.state == "healthy"}
    assert healthy == set(spec.workloads)
    web = [e for e in events if isinstance(e, ComponentState) and e.component == "web" and e.state == "healthy"]
    assert web[0].url == f"http://127.0.0.1:{spec.workloads['web'].ports[0].host}/"


def test_parallel_ups_create_the_cluster_once(project: Project, fake: FakeRunner) -> None:
    fake.on("kind", "get", "clusters", stdout="")
    fake.on("kubectl", "get", "namespace", code=1, stderr="NotFound")
    no_registry(fake)
    b = KindBackend(project, runner=fake)
    threads = [threading.Thread(target=b.up, args=(resolve(project, t), images(project), False))
               for t in ("acme", "globex")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(fake.find("kind", "create", "cluster")) == 1
    assert len(fake.find("docker", "pull", "registry:2")) == 1
    assert len(fake.find("kind", "load")) == 2


def test_up_reports_a_failed_rollout(project: Project, fake: FakeRunner) -> None:
    existing_cluster(fake)
    fake.on("kubectl", "rollout", "status", "deployment/api", code=1, stderr="timed out waiting for the condition")
    events: list[Event] = []
    with pytest.raises(DevenvError, match="api did not become ready"):
        KindBackend(project, events.append, runner=fake).up(resolve(project, "acme"), images(project))
    assert any(isinstance(e, ComponentState) and e.component == "api" and e.state == "unhealthy" for e in events)


def test_up_without_wait_does_not_watch_rollouts(project: Project, fake: FakeRunner) -> None:
    existing_cluster(fake)
    KindBackend(project, runner=fake).up(resolve(project, "globex"), images(project), wait=False)
    assert fake.find("kubectl", "rollout") == []
    _argv, docs = _applied_tenant_docs(fake, "tenant-globex")
    assert all(d["spec"]["template"]["spec"]["nodeSelector"] == {"devenv.dev/pool": "shared"}
               for d in docs if d["kind"] == "Deployment")


def test_up_refuses_to_take_over_a_namespace_devenv_did_not_create(project: Project, fake: FakeRunner) -> None:
    existing_cluster(fake)
    fake.on("kubectl", "get", "namespace", "tenant-acme", stdout=ns_json({"team": "payments"}))
    with pytest.raises(DevenvError, match="did not create it"):
        KindBackend(project, runner=fake).up(resolve(project, "acme"), images(project))
    assert [c for c in fake.find("kubectl", "apply") if "tenant-acme" in (c.input or "")] == []


def test_redeploy_sets_image_only_on_affected_deployments(project: Project, fake: FakeRunner) -> None:
    existing_cluster(fake)
    spec = resolve(project, "acme")
    imgs = images(project) | {"web": "devenv/shop-web:fedcba9876543210"}
    KindBackend(project, runner=fake).redeploy(spec, imgs, ["web"])
    [set_image] = fake.argvs("kubectl", "set", "image")
    assert set_image == ("kubectl", "--context", CTX, "set", "image", "deployment/web",
                         "web=localhost:5001/devenv/shop-web:fedcba9876543210", "-n", "tenant-acme",
                         "--field-manager", "devenv")
    assert fake.find("kubectl", "apply") == []
    assert fake.argvs("docker", "push") == [("docker", "push", "localhost:5001/devenv/shop-web:fedcba9876543210")]
    assert [a[a.index("status") + 1] for a in fake.argvs("kubectl", "rollout", "status")] == ["deployment/web"]


# -- down, context guard ---------------------------------------------------------------------------

def test_down_with_volumes_deletes_only_the_labelled_namespace(project: Project, fake: FakeRunner) -> None:
    fake.on("kubectl", "get", "namespace", "tenant-acme", stdout=ns_json(MANAGED))
    KindBackend(project, runner=fake).down("acme", volumes=True)
    [delete] = fake.argvs("kubectl", "delete")
    assert delete[:6] == ("kubectl", "--context", CTX, "delete", "namespace", "tenant-acme")
    checked = fake.argvs("kubectl", "get", "namespace", "tenant-acme")
    assert checked and [c.argv for c in fake.calls].index(checked[0]) == 0  # label checked first


def test_down_without_volumes_keeps_namespace_and_claims(project: Project, fake: FakeRunner) -> None:
    fake.on("kubectl", "get", "namespace", "tenant-acme", stdout=ns_json(MANAGED))
    KindBackend(project, runner=fake).down("acme")
    [delete] = fake.argvs("kubectl", "delete")
    assert "namespace" not in delete and "persistentvolumeclaims" not in delete[4]
    assert has_pair(delete, "-n", "tenant-acme") and has_pair(delete, "-l", "dev.devenv.managed=true")


def test_down_refuses_an_unlabelled_namespace(project: Project, fake: FakeRunner) -> None:
    fake.on("kubectl", "get", "namespace", "tenant-acme", stdout=ns_json({"team": "payments"}))
    with pytest.raises(DevenvError, match="will not delete it"):
        KindBackend(project, runner=fake).down("acme", volumes=True)
    assert fake.find("kubectl", "delete") == []


def test_down_of_an_absent_namespace_deletes_nothing(project: Project, fake: FakeRunner) -> None:
    fake.on("kubectl", "get", "namespace", code=1, stderr='namespaces "tenant-acme" not found')
    KindBackend(project, runner=fake).down("acme", volumes=True)
    assert fake.find("kubectl", "delete") == []


def test_implicit_foreign_context_is_refused_before_any_call(project: Project, fake: FakeRunner,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVENV_KUBE_CONTEXT", "prod-eu-west-1")
    b = KindBackend(project, runner=fake)
    for act in (lambda: b.up(resolve(project, "acme"), images(project)), lambda: b.down("acme", volumes=True),
                b.delete_cluster):
        with pytest.raises(DevenvError, match="refusing kube context 'prod-eu-west-1'"):
            act()
    assert fake.calls == []


def test_explicit_context_is_used_everywhere(project: Project, fake: FakeRunner,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEVENV_KUBE_CONTEXT", "prod-eu-west-1")
    fake.on("kubectl", "get", "namespace", "tenant-acme", stdout=ns_json(MANAGED))
    KindBackend(project, runner=fake, context="staging").down("acme", volumes=True)
    kubectl = [c.argv for c in fake.calls if c.argv[0] == "kubectl"]
    assert kubectl and all(a[1:3] == ("--context", "staging") for a in kubectl)


# -- status, running tenants, sync, logs, restart, exec --------------------------------------------

def _deploy(name: str, want: int, ready: int) -> dict[str, Any]:
    return {"kind": "Deployment",
            "metadata": {"name": name, "labels": {"app.kubernetes.io/name": name}},
            "spec": {"replicas": want, "template": {"spec": {"containers": [{"name": name, "image": f"img/{name}:1"}]}}},
            "status": {"readyReplicas": ready}}


def _pod(comp: str, waiting: str = "") -> dict[str, Any]:
    state = {"waiting": {"reason": waiting}} if waiting else {"running": {}}
    return {"kind": "Pod", "metadata": {"name": f"{comp}-1", "labels": {"app.kubernetes.io/name": comp}},
            "status": {"containerStatuses": [{"state": state}]}}


def test_status_from_deployments_and_pods(project: Project, fake: FakeRunner) -> None:
    items = [_deploy("web", 1, 1), _deploy("api", 1, 0), _pod("web"), _pod("api", "CrashLoopBackOff")]
    fake.on("kubectl", "get", "deploy,pods", "-n", "tenant-globex", stdout=json.dumps({"items": items}))
    rows = {r.component: r for r in KindBackend(project, runner=fake).status(["globex"])}
    assert rows["web"].state == "running" and rows["web"].health == "healthy"
    assert rows["web"].url == "http://127.0.0.1:18020/" and rows["web"].image == "img/web:1"
    assert rows["api"].state == "restarting" and rows["api"].health == "unhealthy"
    assert rows["worker"].state == "missing"


def test_running_tenants_are_labelled_namespaces_with_deployments(project: Project, fake: FakeRunner) -> None:
    nss = {"items": [{"metadata": {"name": "tenant-acme", "labels": MANAGED}},
                     {"metadata": {"name": "tenant-globex", "labels": {"dev.devenv.managed": "true"}}}]}
    deps = {"items": [{"metadata": {"name": "web", "namespace": "tenant-acme"}},
                      {"metadata": {"name": "web", "namespace": "tenant-globex"}}]}
    assert KindBackend(project, runner=fake).running_tenants() == []  # no cluster: nothing runs, no kubectl
    assert fake.find("kubectl") == []
    existing_cluster(fake)
    fake.on("kubectl", "get", "namespaces", stdout=json.dumps(nss))
    fake.on("kubectl", "get", "deployments", "-A", stdout=json.dumps(deps))
    assert KindBackend(project, runner=fake).running_tenants() == ["acme", "globex"]
    [ns_call] = fake.argvs("kubectl", "get", "namespaces")
    assert has_pair(ns_call, "-l", "dev.devenv.managed=true,dev.devenv.project=shop")


def test_sync_tars_into_every_running_pod_and_deletes(project: Project, fake: FakeRunner, tmp_path: Path) -> None:
    src = tmp_path / "index.html"
    src.write_bytes(b"<h1>hi \xff</h1>")  # not UTF-8: the tar must survive the text-only Runner
    fake.on("kubectl", "get", "pods", stdout="web-a web-b")
    n = KindBackend(project, runner=fake).sync("acme", "web", [
        SyncFile(src, "/srv/web/templates/index.html"), SyncFile(None, "/srv/web/templates/old.html")])
    assert n == 2
    [pods] = fake.argvs("kubectl", "get", "pods")
    assert has_pair(pods, "-l", "app.kubernetes.io/instance=acme,app.kubernetes.io/name=web")
    assert "--field-selector=status.phase=Running" in pods
    copies = fake.find("kubectl", "exec", "-i")
    assert [c.argv[c.argv.index("-i") + 1] for c in copies] == ["web-a", "web-b"]
    for c in copies:
        assert c.argv[c.argv.index("--"):] == ("--", "sh", "-c", "base64 -d | tar -x -C /")
        with tarfile.open(fileobj=io.BytesIO(base64.b64decode(c.input or ""))) as tar:
            member = tar.extractfile("srv/web/templates/index.html")
            assert member is not None and member.read() == b"<h1>hi \xff</h1>"
    rms = fake.argvs("kubectl", "exec", "rm")
    assert [a[-3:] for a in rms] == [("rm", "-f", "/srv/web/templates/old.html")] * 2


def test_logs_prefix_lines_reach_the_sink_by_component(project: Project, fake: FakeRunner) -> None:
    fake.on("kubectl", "logs", stdout="[pod/web-5d9c-abcde/web] GET /\n[pod/api-77-x/api] ready\nplain")
    got: list[tuple[str, str]] = []
    KindBackend(project, runner=fake).logs("acme", ["web", "api"], True, 50, lambda c, line: got.append((c, line)))
    assert got == [("web", "GET /"), ("api", "ready"), ("", "plain")]
    [argv] = fake.argvs("kubectl", "logs")
    assert "--prefix" in argv and "-f" in argv and "--tail=50" in argv
    assert has_pair(argv, "-l", "app.kubernetes.io/instance=acme,app.kubernetes.io/name in (web,api)")


def test_restart_and_exec(project: Project, fake: FakeRunner) -> None:
    fake.on("kubectl", "exec", "deployment/api", stdout="ok\n")
    b = KindBackend(project, runner=fake)
    b.restart("acme", "api")
    assert fake.argvs("kubectl", "rollout", "restart") == [
        ("kubectl", "--context", CTX, "rollout", "restart", "deployment/api", "-n", "tenant-acme")]
    assert b.exec("acme", "api", ["python3", "-V"]) == (0, "ok\n")
    [ex] = fake.argvs("kubectl", "exec")
    assert ex[-3:] == ("--", "python3", "-V")
