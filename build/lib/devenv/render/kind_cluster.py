"""The kind cluster that can host the given tenants as production places them.

Pure: specs in, a ``kind.x-k8s.io/v1alpha4`` Cluster dict out.

* Placement fidelity: worker nodes carry labels that satisfy every tenant's ``node_selector``, so
  pods schedule locally as they do in production (a pod whose selector no node satisfies stays
  Pending, which is what production would do too). One worker per distinct selector, except that a
  selector already satisfied by another worker's labels (``{pool: shared}`` by
  ``{pool: shared, tier: burst}``) shares that worker: every kind node is a container with its own
  kubelet, and fewer nodes start faster and idle lighter.
* URLs: the control-plane node maps each HTTP port's 127.0.0.1 host port (the same one compose
  publishes) to its NodePort (``kube.node_port``).
* Images: a local registry instead of ``kind load`` (only changed layers move). The cluster config
  only switches containerd to per-registry ``hosts.toml`` files (kind's documented
  ``config_path = "/etc/containerd/certs.d"`` recipe); the backend writes the file given by
  ``registry_hosts_toml`` into every node after creation and applies ``registry_configmap``
  (KEP-1755) so other tools discover the registry.

A registry is named ``"<container name>:<host port>"`` (default ``devenv-registry:5001``): images are
pushed to ``localhost:<host port>`` from the host; nodes reach the same registry as
``<container name>:5000`` on the kind network.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from devenv.errors import DevenvError
from devenv.model.types import Project, TenantSpec
from devenv.render.kube import POD_SUBNET, node_port

API_VERSION = "kind.x-k8s.io/v1alpha4"
CERTS_DIR = "/etc/containerd/certs.d"
REGISTRY_CONTAINER_PORT = 5000
DEFAULT_REGISTRY = "devenv-registry:5001"
REGISTRY_HELP = "https://kind.sigs.k8s.io/docs/user/local-registry/"
LOOPBACK_NAMES = ("localhost", "127.0.0.1")

Selector = dict[str, str]


@dataclass(frozen=True)
class Registry:
    name: str  # the registry container's name on the kind network
    host_port: int  # published on 127.0.0.1 of the host

    @property
    def host(self) -> str:
        """Where the host pushes, and the name images carry (``localhost:5001/...``)."""
        return f"localhost:{self.host_port}"

    @property
    def in_cluster(self) -> str:
        """Where the nodes' containerd actually pulls from."""
        return f"{self.name}:{REGISTRY_CONTAINER_PORT}"


def parse_registry(registry: str) -> Registry:
    name, sep, port = registry.rpartition(":")
    if not sep or not name or not port.isdigit():
        raise DevenvError(f"registry '{registry}' is not <container name>:<host port>",
                          f"e.g. {DEFAULT_REGISTRY}")
    return Registry(name, int(port))


def worker_selectors(specs: list[TenantSpec]) -> list[Selector]:
    """The label sets of the worker nodes: distinct non-empty selectors, minus those another
    selector already satisfies. Sorted, so the node list does not depend on tenant order."""
    distinct = sorted({tuple(sorted(s.node_selector.items())) for s in specs if s.node_selector})
    keep = [sel for sel in distinct if not any(set(sel) < set(other) for other in distinct)]
    return [dict(sel) for sel in keep]


def port_mappings(project: Project, specs: list[TenantSpec]) -> list[dict[str, Any]]:
    out = []
    for spec in sorted(specs, key=lambda s: s.name):
        for w in spec.workloads.values():
            for p in w.ports:
                if p.http:
                    out.append({
                        "containerPort": node_port(project, p.host),
                        "hostPort": p.host,
                        "listenAddress": "127.0.0.1",
                        "protocol": "TCP",
                    })
    return sorted(out, key=lambda m: m["hostPort"])


def containerd_patch() -> str:
    return f'[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "{CERTS_DIR}"\n'


def render_cluster(
    project: Project,
    specs: list[TenantSpec],
    name: str | None = None,
    registry: str | None = DEFAULT_REGISTRY,
) -> dict[str, Any]:
    """The kind config for ``specs`` (local specs: they carry the host ports)."""
    control_plane: dict[str, Any] = {"role": "control-plane"}
    mappings = port_mappings(project, specs)
    if mappings:
        control_plane["extraPortMappings"] = mappings
    nodes = [control_plane] + [{"role": "worker", "labels": sel} for sel in worker_selectors(specs)]
    cluster: dict[str, Any] = {
        "kind": "Cluster",
        "apiVersion": API_VERSION,
        "name": name or default_cluster_name(project),
        "networking": {"podSubnet": POD_SUBNET},
    }
    if registry is not None:
        parse_registry(registry)  # refuse a malformed name here, not after a minute of cluster creation
        cluster["containerdConfigPatches"] = [containerd_patch()]
    cluster["nodes"] = nodes
    return cluster


def default_cluster_name(project: Project) -> str:
    return f"devenv-{project.app.name}"


def registry_hosts_toml(registry: str = DEFAULT_REGISTRY) -> tuple[str, str]:
    """(directory in each node, ``hosts.toml`` content) that sends pulls of ``localhost:<port>/...``
    to the registry container over the kind network."""
    reg = parse_registry(registry)
    return f"{CERTS_DIR}/{reg.host}", f'[host."http://{reg.in_cluster}"]\n'


def registry_configmap(registry: str = DEFAULT_REGISTRY) -> dict[str, Any]:
    """KEP-1755: tells tools (Tilt, Skaffold, ctlptl...) where to push for this cluster. Takes the
    registry as ``<container name>:<host port>`` or as the host's own ``localhost:<port>``."""
    reg = parse_registry(registry)
    lines = [f'host: "{reg.host}"']
    if reg.name not in LOOPBACK_NAMES:  # given "localhost:5001" we do not know the container's name
        lines.append(f'hostFromClusterNetwork: "{reg.in_cluster}"')
    lines.append(f'help: "{REGISTRY_HELP}"')
    hosting = "".join(f"{line}\n" for line in lines)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "local-registry-hosting", "namespace": "kube-public"},
        "data": {"localRegistryHosting.v1": hosting},
    }


def node_labels(cluster: dict[str, Any]) -> list[Selector]:
    """Labels of every node that ordinary pods may use. The control plane counts only when it is
    the only node (kind taints it NoSchedule once workers exist)."""
    nodes = cluster.get("nodes") or [{"role": "control-plane"}]
    workers = [n for n in nodes if n.get("role") == "worker"]
    return [dict(n.get("labels") or {}) for n in (workers or nodes)]


def cluster_satisfies(cluster: dict[str, Any], specs: list[TenantSpec]) -> list[str]:
    """Every tenant selector no schedulable node satisfies, as ``tenant: k=v,...`` (empty: all fit)."""
    nodes = node_labels(cluster)
    out = []
    for spec in specs:
        sel = spec.node_selector
        if not any(all(labels.get(k) == v for k, v in sel.items()) for labels in nodes):
            out.append(f"{spec.name}: " + ",".join(f"{k}={v}" for k, v in sorted(sel.items())))
    return out
