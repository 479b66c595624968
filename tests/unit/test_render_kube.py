"""The Kubernetes renderer: order, labels, placement, secrets, node ports, isolation."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_render_support import ENVS, TENANTS, fixed_images, load_sample

from devenv.errors import DevenvError
from devenv.model import resolve
from devenv.model.types import Project
from devenv.render.kind_cluster import render_cluster
from devenv.render.kube import POD_SUBNET, node_port, render_manifests
from devenv.render.yamldump import dump_all

KIND_ORDER = ["Namespace", "ConfigMap", "Secret", "PersistentVolumeClaim", "Deployment", "Service", "NetworkPolicy"]
VALUES = {"shop-db": {"password": "devpass"}, "acme-payments": {"api-key": "k3y-value"}}


@pytest.fixture
def project(sample: Path) -> Project:
    return load_sample(sample)


def render(project: Project, tenant: str, env: str = "local", values: dict | None = None) -> list[dict]:
    return render_manifests(project, resolve(project, tenant, env), fixed_images(project), values)  # type: ignore[arg-type]


def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_spec(docs: list[dict], name: str) -> dict:
    return by_kind(docs, "Deployment")[name]["spec"]["template"]["spec"]


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("tenant", TENANTS)
def test_order_and_labels(project: Project, tenant: str, env: str) -> None:
    docs = render(project, tenant, env, VALUES)
    kinds = [d["kind"] for d in docs]
    assert kinds == sorted(kinds, key=KIND_ORDER.index)
    ns = resolve(project, tenant).namespace  # type: ignore[arg-type]
    for d in docs:
        labels = d["metadata"]["labels"]
        assert labels["dev.devenv.managed"] == "true" and labels["dev.devenv.tenant"] == tenant
        assert labels["app.kubernetes.io/managed-by"] == "devenv"
        assert d["metadata"].get("namespace", ns) == ns


def test_deterministic(project: Project) -> None:
    assert dump_all(render(project, "acme", values=VALUES)) == dump_all(render(project, "acme", values=VALUES))


def test_namespace_carries_profile_labels(project: Project) -> None:
    ns = render(project, "acme")[0]
    assert ns["metadata"]["name"] == "tenant-acme"
    assert ns["metadata"]["labels"]["plan"] == "enterprise"
    assert ns["metadata"]["labels"]["app.kubernetes.io/part-of"] == "shop"


def test_deployment_placement_replicas_resources(project: Project) -> None:
    docs = render(project, "acme", "prod")
    web = by_kind(docs, "Deployment")["web"]
    assert web["spec"]["replicas"] == 3
    pod = web["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"devenv.dev/pool": "dedicated", "devenv.dev/tenant": "acme"}
    assert pod["containers"][0]["resources"] == {"limits": {"cpu": "1", "memory": "1Gi"},
                                                 "requests": {"cpu": "500m", "memory": "512Mi"}}
    assert pod["containers"][0]["image"].startswith("registry.shop.example/shop/web:2026.11.3@sha256:")
    selector = web["spec"]["selector"]["matchLabels"]
    assert selector.items() <= web["spec"]["template"]["metadata"]["labels"].items()


def test_local_uses_built_images_and_drops_resources(project: Project) -> None:
    container = pod_spec(render(project, "acme"), "web")["containers"][0]
    assert container["image"] == "devenv/shop-web:golden"
    assert "resources" not in container


def test_env_sorted_and_secrets_by_reference(project: Project) -> None:
    env = pod_spec(render(project, "acme"), "api")["containers"][0]["env"]
    plain = [e["name"] for e in env if "value" in e]
    assert plain == sorted(plain)
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in env if "valueFrom" in e}
    assert refs == {"DATABASE_PASSWORD": {"name": "shop-db", "key": "password"},
                    "PAYMENTS_API_KEY": {"name": "acme-payments", "key": "api-key"}}


def test_prod_has_no_secret_objects_but_references(project: Project) -> None:
    docs = render(project, "acme", "prod")
    assert not by_kind(docs, "Secret")
    env = pod_spec(docs, "web")["containers"][0]["env"]
    assert any("valueFrom" in e for e in env)


def test_local_secrets_hold_dev_values(project: Project) -> None:
    secrets = by_kind(render(project, "acme", values=VALUES), "Secret")
    assert secrets["shop-db"]["stringData"] == {"password": "devpass"}
    assert secrets["acme-payments"]["stringData"] == {"api-key": "k3y-value"}
    # Without values: the overlay's dev values only; the missing key is left out, not invented.
    secrets = by_kind(render(project, "acme"), "Secret")
    assert secrets["acme-payments"]["stringData"] == {}


def test_probes(project: Project) -> None:
    docs = render(project, "acme")
    web = pod_spec(docs, "web")["containers"][0]["readinessProbe"]
    assert web["httpGet"] == {"path": "/healthz", "port": 8000}
    pg = pod_spec(docs, "postgres")["containers"][0]["readinessProbe"]
    assert pg["exec"]["command"][0] == "pg_isready" and pg["periodSeconds"] == 2 and pg["failureThreshold"] == 60


def test_volumes_become_claims(project: Project) -> None:
    docs = render(project, "acme")
    assert set(by_kind(docs, "PersistentVolumeClaim")) == {"pgdata", "redisdata"}
    pg = by_kind(docs, "Deployment")["postgres"]
    assert pg["spec"]["strategy"] == {"type": "Recreate"}
    assert pg["spec"]["template"]["spec"]["volumes"] == [{"name": "pgdata", "persistentVolumeClaim": {"claimName": "pgdata"}}]


def test_every_workload_resolvable_by_name(project: Project) -> None:
    docs = render(project, "acme")
    services = by_kind(docs, "Service")
    for name in resolve(project, "acme").workloads:
        assert name in services
    assert services["redis"]["spec"]["clusterIP"] == "None"  # no declared port: headless
    assert services["postgres"]["spec"]["ports"][0]["port"] == 5432


def test_node_ports_match_cluster_mappings(project: Project) -> None:
    specs = [resolve(project, t) for t in TENANTS]
    cluster = render_cluster(project, specs)
    mapped = {m["containerPort"]: m["hostPort"] for m in cluster["nodes"][0]["extraPortMappings"]}
    node_ports = {}
    for spec in specs:
        for name, svc in by_kind(render_manifests(project, spec, fixed_images(project)), "Service").items():
            if svc["spec"]["type"] == "NodePort":
                assert name.endswith("-nodeport")
                for p in svc["spec"]["ports"]:
                    node_ports[p["nodePort"]] = spec.workloads[name.removesuffix("-nodeport")]
    assert set(node_ports) == set(mapped)
    for np, workload in node_ports.items():
        assert mapped[np] in {p.host for p in workload.ports if p.http}


def test_prod_has_no_node_ports(project: Project) -> None:
    services = by_kind(render(project, "acme", "prod"), "Service")
    assert all(s["spec"]["type"] == "ClusterIP" for s in services.values())


def test_network_policies(project: Project) -> None:
    local = by_kind(render(project, "acme"), "NetworkPolicy")
    assert local["isolate-namespace"]["spec"]["ingress"] == [{"from": [{"podSelector": {}}]}]
    rule = local["allow-node-ports"]["spec"]["ingress"][0]
    assert rule["from"] == [{"ipBlock": {"cidr": "0.0.0.0/0", "except": [POD_SUBNET]}}]
    assert rule["ports"] == [{"protocol": "TCP", "port": 8000}]
    assert local["allow-node-ports"]["spec"]["podSelector"]["matchExpressions"][0]["values"] == ["api", "web"]
    assert set(by_kind(render(project, "acme", "prod"), "NetworkPolicy")) == {"isolate-namespace"}


def test_features_configmap(project: Project) -> None:
    cm = by_kind(render(project, "initech"), "ConfigMap")["initech-features"]
    assert cm["data"] == {"new_checkout": "false", "trial_banner": "true"}


def test_command_becomes_args(project: Project) -> None:
    from dataclasses import replace

    spec = resolve(project, "acme")
    spec = replace(spec, workloads={**spec.workloads, "web": replace(spec.workloads["web"], command=("serve", "--x"))})
    container = pod_spec(render_manifests(project, spec, fixed_images(project)), "web")["containers"][0]
    assert container["args"] == ["serve", "--x"] and "command" not in container


def test_node_port_range(project: Project) -> None:
    assert node_port(project, project.app.port_base) == 30000
    with pytest.raises(DevenvError):
        node_port(project, project.app.port_base - 1)


# What the sample leaves out (no StatefulSet, no production probes or placement, no user), as the
# manifests show it.

def with_workload(project: Project, tenant: str, env: str, name: str, **changes: object) -> list[dict]:
    from dataclasses import replace

    spec = resolve(project, tenant, env)  # type: ignore[arg-type]
    spec = replace(spec, workloads={**spec.workloads, name: replace(spec.workloads[name], **changes)})  # type: ignore[arg-type]
    return render_manifests(project, spec, fixed_images(project))


def test_node_port_range_ends_at_32767_and_says_how_to_fix(project: Project) -> None:
    assert node_port(project, project.app.port_base + 2767) == 32767
    with pytest.raises(DevenvError) as exc:
        node_port(project, project.app.port_base + 2768)
    assert exc.value.message == (f"host port {project.app.port_base + 2768} maps to node port 32768, "
                                 "outside 30000-32767")
    assert exc.value.hint == ("keep every tenant's port_base at or above devenv.yaml's port_base and "
                              "within 2767 ports of it")


def test_a_statefulset_stays_one_in_prod_only(project: Project) -> None:
    prod = with_workload(project, "acme", "prod", "postgres", kind="StatefulSet")
    sts = by_kind(prod, "StatefulSet")["postgres"]
    assert sts["spec"]["serviceName"] == "postgres"
    assert sts["spec"]["volumeClaimTemplates"] == [
        {"metadata": {"name": "pgdata"},
         "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}]
    assert "volumes" not in sts["spec"]["template"]["spec"] and "strategy" not in sts["spec"]
    assert "postgres" not in by_kind(prod, "Deployment")
    assert "pgdata" not in by_kind(prod, "PersistentVolumeClaim")  # the claim template makes it
    local = with_workload(project, "acme", "local", "postgres", kind="StatefulSet")
    assert not by_kind(local, "StatefulSet") and "postgres" in by_kind(local, "Deployment")
    assert "pgdata" in by_kind(local, "PersistentVolumeClaim")


def test_an_http_probe_without_port_or_path_asks_the_first_port_at_the_root(project: Project) -> None:
    from devenv.model.types import Health, PublishedPort

    ports = (PublishedPort("http", 8000, 18000, True), PublishedPort("admin", 9000, 18001, True))
    docs = with_workload(project, "acme", "local", "web", health=Health(), ports=ports)
    assert pod_spec(docs, "web")["containers"][0]["readinessProbe"]["httpGet"] == {"path": "/", "port": 8000}
    docs = with_workload(project, "acme", "local", "web", health=Health(http="/up", port=9000), ports=ports)
    assert pod_spec(docs, "web")["containers"][0]["readinessProbe"]["httpGet"] == {"path": "/up", "port": 9000}
    docs = with_workload(project, "acme", "local", "worker", health=Health(), ports=())
    assert pod_spec(docs, "worker")["containers"][0]["readinessProbe"]["httpGet"] == {"path": "/", "port": 80}


def test_probe_times_are_whole_seconds_of_at_least_one(project: Project) -> None:
    from devenv.model.types import Health

    health = Health(cmd=("true",), interval=0.5, timeout=0.2, retries=0, start_period=0.5)
    probe = pod_spec(with_workload(project, "acme", "local", "redis", health=health), "redis")["containers"][0]
    assert probe["readinessProbe"] == {"exec": {"command": ["true"]}, "initialDelaySeconds": 1, "periodSeconds": 1,
                                       "timeoutSeconds": 1, "failureThreshold": 1}


@pytest.mark.parametrize(("user", "context"), [("1000:2000", {"runAsUser": 1000, "runAsGroup": 2000}),
                                               ("1000", {"runAsUser": 1000}), (":2000", {"runAsGroup": 2000}),
                                               ("app", None), ("app:2000", {"runAsGroup": 2000})])
def test_user_becomes_a_security_context_of_numeric_ids(project: Project, user: str, context: dict | None) -> None:
    docs = with_workload(project, "acme", "local", "web", user=user, entrypoint=("/bin/sh", "-c"), working_dir="/srv")
    container = pod_spec(docs, "web")["containers"][0]
    assert container.get("securityContext") == context
    assert container["command"] == ["/bin/sh", "-c"] and container["workingDir"] == "/srv"


def test_prod_keeps_productions_probes_and_placement(project: Project) -> None:
    from devenv.model.types import Placement

    probes = {"liveness": {"httpGet": {"path": "/live", "port": 8000}, "periodSeconds": 10},
              "startup": {"exec": {"command": ["true"]}}}
    placement = Placement(node_selector={"disk": "ssd"},
                          tolerations=({"key": "dedicated", "operator": "Equal", "value": "acme", "effect": "NoSchedule"},),
                          affinity={"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": []}})
    docs = with_workload(project, "acme", "prod", "web", probes=probes, placement=placement, service_account="web-sa")
    pod = pod_spec(docs, "web")
    assert pod["tolerations"] == [dict(placement.tolerations[0])]
    assert pod["affinity"] == placement.affinity
    assert pod["serviceAccountName"] == "web-sa"
    assert pod["nodeSelector"]["disk"] == "ssd"
    container = pod["containers"][0]
    assert container["livenessProbe"] == probes["liveness"] and container["startupProbe"] == probes["startup"]
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": 8000}
    local = pod_spec(with_workload(project, "acme", "local", "web", probes=probes, placement=placement,
                                   service_account="web-sa"), "web")
    assert not {"tolerations", "affinity", "serviceAccountName"} & set(local)
    assert "disk" not in local["nodeSelector"]  # production's node pools do not exist on kind
    assert "livenessProbe" not in local["containers"][0]
