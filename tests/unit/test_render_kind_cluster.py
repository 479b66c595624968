"""The kind cluster config: placement labels, port mappings, local registry."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from test_render_support import TENANTS, load_sample

from devenv.errors import DevenvError
from devenv.model import resolve
from devenv.model.types import Project, TenantSpec
from devenv.render.kind_cluster import (
    cluster_satisfies,
    parse_registry,
    registry_configmap,
    registry_hosts_toml,
    render_cluster,
    worker_selectors,
)


@pytest.fixture
def project(sample: Path) -> Project:
    return load_sample(sample)


@pytest.fixture
def specs(project: Project) -> list[TenantSpec]:
    return [resolve(project, t) for t in TENANTS]


def with_selector(spec: TenantSpec, selector: dict[str, str]) -> TenantSpec:
    return replace(spec, node_selector=selector)


def test_satisfies_every_tenant(project: Project, specs: list[TenantSpec]) -> None:
    cluster = render_cluster(project, specs)
    assert cluster_satisfies(cluster, specs) == []
    assert cluster["apiVersion"] == "kind.x-k8s.io/v1alpha4" and cluster["kind"] == "Cluster"
    assert [n["role"] for n in cluster["nodes"]] == ["control-plane", "worker", "worker"]


def test_one_tenant_only(project: Project, specs: list[TenantSpec]) -> None:
    cluster = render_cluster(project, specs[:1])
    assert [n.get("labels") for n in cluster["nodes"][1:]] == [{"devenv.dev/pool": "dedicated", "devenv.dev/tenant": "acme"}]
    assert cluster_satisfies(cluster, specs) == ["globex: devenv.dev/pool=shared",
                                                 "initech: devenv.dev/pool=shared,devenv.dev/tier=burst"]


def test_subset_selectors_share_a_worker(specs: list[TenantSpec]) -> None:
    sels = worker_selectors(specs)
    assert {"devenv.dev/pool": "shared"} not in sels  # satisfied by the shared+burst worker
    assert len(sels) == 2


def test_conflicting_selectors_get_their_own_workers(specs: list[TenantSpec]) -> None:
    a = with_selector(specs[0], {"zone": "a"})
    b = with_selector(specs[1], {"zone": "b"})
    assert worker_selectors([a, b]) == [{"zone": "a"}, {"zone": "b"}]


def test_empty_selectors_need_no_worker(project: Project, specs: list[TenantSpec]) -> None:
    free = [with_selector(s, {}) for s in specs]
    cluster = render_cluster(project, free)
    assert [n["role"] for n in cluster["nodes"]] == ["control-plane"]
    assert cluster_satisfies(cluster, free) == []


def test_order_independent(project: Project, specs: list[TenantSpec]) -> None:
    assert render_cluster(project, specs) == render_cluster(project, list(reversed(specs)))


def test_port_mappings_loopback_and_http_only(project: Project, specs: list[TenantSpec]) -> None:
    mappings = render_cluster(project, specs)["nodes"][0]["extraPortMappings"]
    http_hosts = sorted(p.host for s in specs for w in s.workloads.values() for p in w.ports if p.http)
    assert [m["hostPort"] for m in mappings] == http_hosts
    assert {m["listenAddress"] for m in mappings} == {"127.0.0.1"}
    assert all(30000 <= m["containerPort"] <= 32767 for m in mappings)


def test_registry_patch(project: Project, specs: list[TenantSpec]) -> None:
    cluster = render_cluster(project, specs)
    assert 'config_path = "/etc/containerd/certs.d"' in cluster["containerdConfigPatches"][0]
    assert "containerdConfigPatches" not in render_cluster(project, specs, registry=None)
    assert render_cluster(project, specs, name="x")["name"] == "x"
    assert render_cluster(project, specs)["name"] == "devenv-shop"


def test_registry_files() -> None:
    assert registry_hosts_toml() == ("/etc/containerd/certs.d/localhost:5001", '[host."http://devenv-registry:5000"]\n')
    cm = registry_configmap()
    assert cm["metadata"] == {"name": "local-registry-hosting", "namespace": "kube-public"}
    assert 'host: "localhost:5001"' in cm["data"]["localRegistryHosting.v1"]
    assert 'hostFromClusterNetwork: "devenv-registry:5000"' in cm["data"]["localRegistryHosting.v1"]
    assert "hostFromClusterNetwork" not in registry_configmap("localhost:5001")["data"]["localRegistryHosting.v1"]


def test_bad_registry() -> None:
    with pytest.raises(DevenvError):
        parse_registry("no-port")


@pytest.mark.parametrize("bad", [":5001", "devenv-registry", "devenv-registry:", "devenv-registry:x1"])
def test_a_registry_without_name_or_numeric_port_is_refused_with_an_example(bad: str) -> None:
    with pytest.raises(DevenvError) as exc:
        parse_registry(bad)
    assert exc.value.message == f"registry '{bad}' is not <container name>:<host port>"
    assert exc.value.hint == "e.g. devenv-registry:5001"


def test_registry_configmap_is_the_whole_kep_1755_object() -> None:
    assert registry_configmap("my-registry:5002") == {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "local-registry-hosting", "namespace": "kube-public"},
        "data": {"localRegistryHosting.v1": 'host: "localhost:5002"\n'
                                            'hostFromClusterNetwork: "my-registry:5000"\n'
                                            'help: "https://kind.sigs.k8s.io/docs/user/local-registry/"\n'},
    }


def test_a_labelled_control_plane_does_not_count_once_workers_exist(specs: list[TenantSpec]) -> None:
    """kind taints the control plane NoSchedule when workers exist: its labels place nothing."""
    acme = specs[0]
    labels = dict(acme.node_selector)
    with_worker = {"nodes": [{"role": "control-plane", "labels": labels}, {"role": "worker", "labels": {"x": "y"}}]}
    assert cluster_satisfies(with_worker, [acme]) == [
        "acme: " + ",".join(f"{k}={v}" for k, v in sorted(labels.items()))]
    alone = {"nodes": [{"role": "control-plane", "labels": labels}]}
    assert cluster_satisfies(alone, [acme]) == []
    assert cluster_satisfies({}, [with_selector(acme, {})]) == []  # no nodes listed: kind's one control plane
