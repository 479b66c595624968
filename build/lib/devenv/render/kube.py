"""A tenant as Kubernetes manifests: for the kind backend (``env="local"``) and to show what
production runs (``env="prod"``).

Pure and golden-tested; the output passes ``kubernetes-validate --strict``. Objects come in a fixed
order (Namespace, ConfigMaps, Secrets, PVCs, Deployments, Services, NetworkPolicies) so that
``kubectl apply -f -`` creates what others reference first and diffs stay readable.

Choices worth knowing:

* Every workload gets a Service named after its component, so ``DATABASE_HOST=postgres`` resolves
  as it does on the compose network. A workload without declared ports (redis in the sample) gets a
  *headless* Service: its name still resolves to the pod, whatever port the client uses.
* ``Workload.command`` becomes the container's ``args``: compose's ``command`` replaces the image's
  CMD, and so does ``args`` (Kubernetes' ``command`` would replace the ENTRYPOINT).
* Locally, each HTTP port also gets a NodePort (``30000 + host port - app.port_base``) in a separate
  ``<component>-nodeport`` Service; the kind cluster config maps that node port to the same
  127.0.0.1 host port compose would publish, so URLs are identical on both backends.
* Isolation: ``isolate-namespace`` admits ingress only from pods of the same namespace. Locally a
  second policy, ``allow-node-ports``, admits traffic to the HTTP container ports of the components
  that publish them from non-pod sources only (``0.0.0.0/0`` except the cluster's pod subnet): the
  NodePort traffic kube-proxy forwards arrives from a node address, while pods of other tenants
  stay shut out. Production gets no such rule: its ingress path is production's business.
* Secrets: locally, Secret objects with the dev values (``stringData``); for prod, none at all —
  Deployments reference secrets by name and production provides them.
"""

from __future__ import annotations

import math
from typing import Any

from devenv.errors import DevenvError
from devenv.model.types import (
    LABEL_COMPONENT,
    LABEL_MANAGED,
    LABEL_PROJECT,
    LABEL_TENANT,
    PROBE_KINDS,
    Health,
    Project,
    TenantSpec,
    Workload,
)
from devenv.render.compose import image_for

NODE_PORT_BASE = 30000
NODE_PORT_MAX = 32767  # the default --service-node-port-range of a kind cluster
POD_SUBNET = "10.244.0.0/16"  # set explicitly in the kind cluster config (kind_cluster.py)
DEFAULT_VOLUME_SIZE = "1Gi"

Manifest = dict[str, Any]


def node_port(project: Project, host_port: int) -> int:
    """The node port that stands for ``host_port`` on kind; shared with ``kind_cluster``."""
    port = NODE_PORT_BASE + host_port - project.app.port_base
    if not NODE_PORT_BASE <= port <= NODE_PORT_MAX:
        raise DevenvError(
            f"host port {host_port} maps to node port {port}, outside {NODE_PORT_BASE}-{NODE_PORT_MAX}",
            "keep every tenant's port_base at or above devenv.yaml's port_base and within 2767 ports of it")
    return port


def common_labels(project: Project, spec: TenantSpec) -> dict[str, str]:
    return {
        "app.kubernetes.io/part-of": project.app.name,
        "app.kubernetes.io/managed-by": "devenv",
        LABEL_PROJECT: project.app.name,
        LABEL_TENANT: spec.name,
        LABEL_MANAGED: "true",
    }


def selector_labels(spec: TenantSpec, component: str) -> dict[str, str]:
    """Immutable in a Deployment, so only what never changes for a component."""
    return {"app.kubernetes.io/name": component, "app.kubernetes.io/instance": spec.name}


def workload_labels(project: Project, spec: TenantSpec, component: str) -> dict[str, str]:
    return {
        **selector_labels(spec, component),
        "app.kubernetes.io/component": component,
        **common_labels(project, spec),
        LABEL_COMPONENT: component,
    }


def meta(name: str, namespace: str | None, labels: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name}
    if namespace is not None:
        out["namespace"] = namespace
    out["labels"] = labels
    return out


def namespace(project: Project, spec: TenantSpec) -> Manifest:
    """Production's own labels on the namespace, devenv's labels winning on a clash (teardown and
    status depend on them)."""
    labels = {k: v for k, v in sorted(spec.labels.items())}
    labels.update(common_labels(project, spec))
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": meta(spec.namespace, None, labels)}


def features_configmap(project: Project, spec: TenantSpec) -> Manifest:
    data = {k: "true" if v else "false" for k, v in sorted(spec.features.items())}
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": meta(f"{spec.name}-features", spec.namespace, common_labels(project, spec)),
        "data": data,
    }


def secret_objects(project: Project, spec: TenantSpec, values: dict[str, dict[str, str]]) -> list[Manifest]:
    """One Secret per secret name the workloads reference, keys without a value left out (the
    render command warns about them)."""
    wanted: dict[str, list[str]] = {}
    for w in spec.workloads.values():
        for ref in w.secret_env:
            keys = wanted.setdefault(ref.name, [])
            if ref.key not in keys:
                keys.append(ref.key)
    out = []
    for name in sorted(wanted):
        data = {k: values[name][k] for k in sorted(wanted[name]) if k in values.get(name, {})}
        out.append({
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": meta(name, spec.namespace, common_labels(project, spec)),
            "type": "Opaque",
            "stringData": data,
        })
    return out


def stateful(spec: TenantSpec, w: Workload) -> bool:
    """Production runs it as a StatefulSet (kept in ``render --env prod``; locally a Deployment
    with a claim per volume, as before)."""
    return spec.env == "prod" and w.kind == "StatefulSet"


def pvcs(project: Project, spec: TenantSpec) -> list[Manifest]:
    out = []
    for w in spec.workloads.values():
        for v in () if stateful(spec, w) else w.volumes:
            out.append({
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "metadata": meta(v.name, spec.namespace, workload_labels(project, spec, w.name)),
                "spec": {
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": DEFAULT_VOLUME_SIZE}},
                },
            })
    return out


def probe(h: Health, w: Workload) -> dict[str, Any]:
    if h.cmd:
        action: dict[str, Any] = {"exec": {"command": list(h.cmd)}}
    else:
        port = h.port or (w.ports[0].container if w.ports else 80)
        action = {"httpGet": {"path": h.http or "/", "port": port}}
    return {
        **action,
        "initialDelaySeconds": math.ceil(h.start_period),
        "periodSeconds": max(1, math.ceil(h.interval)),
        "timeoutSeconds": max(1, math.ceil(h.timeout)),
        "failureThreshold": max(1, h.retries),
    }


def env_vars(w: Workload) -> list[dict[str, Any]]:
    """Plain values sorted by name, then secret references in profile order; a plain value of the
    same name as a secret is dropped (the secret wins, as the env file does in compose)."""
    secret_names = {r.env for r in w.secret_env}
    out: list[dict[str, Any]] = [
        {"name": k, "value": v} for k, v in sorted(w.env.items()) if k not in secret_names
    ]
    for ref in w.secret_env:
        out.append({"name": ref.env, "valueFrom": {"secretKeyRef": {"name": ref.name, "key": ref.key}}})
    return out


def run_as(user: str | None) -> dict[str, int]:
    """Compose's ``user: 1000:1000`` as a securityContext. Kubernetes takes numeric ids only; a user
    given by name keeps the image's user on kind (``devenv init`` notes that when it adopts one)."""
    uid, _, gid = (user or "").partition(":")
    out: dict[str, int] = {}
    if uid.isdigit():
        out["runAsUser"] = int(uid)
    if gid.isdigit():
        out["runAsGroup"] = int(gid)
    return out


def probes(w: Workload, prod: bool) -> dict[str, Any]:
    """devenv.yaml's health check is the readiness probe; production's own probes (the profile's
    ``probes``) replace it and add liveness/startup in ``render --env prod`` only: locally a
    liveness probe would restart a container paused in a debugger."""
    out: dict[str, Any] = {}
    if w.health is not None:
        out["readinessProbe"] = probe(w.health, w)
    if prod:
        for kind in PROBE_KINDS:
            if kind in w.probes:
                out[f"{kind}Probe"] = dict(w.probes[kind])
    return out


def container(w: Workload, image: str, prod: bool = False) -> dict[str, Any]:
    c: dict[str, Any] = {"name": w.name, "image": image, "imagePullPolicy": "IfNotPresent"}
    if w.entrypoint:
        c["command"] = list(w.entrypoint)
    if w.command:
        c["args"] = list(w.command)
    if w.working_dir is not None:
        c["workingDir"] = w.working_dir
    context = run_as(w.user)
    if context:
        c["securityContext"] = context
    if w.ports:
        c["ports"] = [{"name": p.name, "containerPort": p.container, "protocol": "TCP"} for p in w.ports]
    env = env_vars(w)
    if env:
        c["env"] = env
    if w.resources is not None and (w.resources.requests or w.resources.limits):
        res: dict[str, Any] = {}
        if w.resources.limits:
            res["limits"] = dict(sorted(w.resources.limits.items()))
        if w.resources.requests:
            res["requests"] = dict(sorted(w.resources.requests.items()))
        c["resources"] = res
    c.update(probes(w, prod))
    if w.volumes:
        c["volumeMounts"] = [{"name": v.name, "mountPath": v.target} for v in w.volumes]
    return c


def image_for_env(spec: TenantSpec, w: Workload, images: dict[str, str]) -> str:
    """Prod shows production's pinned reference; local runs what the builder made."""
    if spec.env == "prod" and w.image_ref is not None:
        return w.image_ref
    return image_for(w, images)


def placement(w: Workload) -> dict[str, Any]:
    """Production's per-workload scheduling, as the profile keeps it (prod only: a local kind
    cluster has none of production's node pools or taints)."""
    out: dict[str, Any] = {}
    if w.placement.tolerations:
        out["tolerations"] = [dict(t) for t in w.placement.tolerations]
    if w.placement.affinity:
        out["affinity"] = dict(w.placement.affinity)
    if w.service_account:
        out["serviceAccountName"] = w.service_account
    return out


def deployment(project: Project, spec: TenantSpec, w: Workload, images: dict[str, str]) -> Manifest:
    labels = workload_labels(project, spec, w.name)
    prod = spec.env == "prod"
    pod: dict[str, Any] = {}
    selector = {**spec.node_selector, **(w.placement.node_selector if prod else {})}
    if selector:
        pod["nodeSelector"] = dict(sorted(selector.items()))
    if prod:
        pod.update(placement(w))
    pod["containers"] = [container(w, image_for_env(spec, w, images), prod)]
    sts = stateful(spec, w)
    if w.volumes and not sts:
        pod["volumes"] = [{"name": v.name, "persistentVolumeClaim": {"claimName": v.name}} for v in w.volumes]
    dspec: dict[str, Any] = {
        "replicas": w.replicas,
        "selector": {"matchLabels": selector_labels(spec, w.name)},
    }
    if sts:
        dspec["serviceName"] = w.name
    elif w.volumes:
        # A ReadWriteOnce volume cannot be attached to the old and the new pod at once.
        dspec["strategy"] = {"type": "Recreate"}
    dspec["template"] = {"metadata": {"labels": labels}, "spec": pod}
    if sts and w.volumes:
        dspec["volumeClaimTemplates"] = [
            {"metadata": {"name": v.name}, "spec": {"accessModes": ["ReadWriteOnce"],
                                                   "resources": {"requests": {"storage": DEFAULT_VOLUME_SIZE}}}}
            for v in w.volumes]
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet" if sts else "Deployment",
        "metadata": meta(w.name, spec.namespace, labels),
        "spec": dspec,
    }


def services(project: Project, spec: TenantSpec, w: Workload) -> list[Manifest]:
    labels = workload_labels(project, spec, w.name)
    sspec: dict[str, Any] = {"type": "ClusterIP"}
    if w.ports:
        sspec["ports"] = [
            {"name": p.name, "port": p.container, "targetPort": p.name, "protocol": "TCP"} for p in w.ports
        ]
    else:
        sspec["clusterIP"] = "None"
    sspec["selector"] = selector_labels(spec, w.name)
    out = [{"apiVersion": "v1", "kind": "Service", "metadata": meta(w.name, spec.namespace, labels), "spec": sspec}]
    http = [p for p in w.ports if p.http]
    if spec.env == "local" and http:
        out.append({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta(f"{w.name}-nodeport", spec.namespace, labels),
            "spec": {
                "type": "NodePort",
                "ports": [
                    {"name": p.name, "port": p.container, "targetPort": p.name, "protocol": "TCP",
                     "nodePort": node_port(project, p.host)}
                    for p in http
                ],
                "selector": selector_labels(spec, w.name),
            },
        })
    return out


def network_policies(project: Project, spec: TenantSpec) -> list[Manifest]:
    labels = common_labels(project, spec)
    isolate = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": meta("isolate-namespace", spec.namespace, labels),
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector": {}}]}]},
    }
    out = [isolate]
    http = {w.name: sorted({p.container for p in w.ports if p.http}) for w in spec.workloads.values()}
    http = {name: ports for name, ports in http.items() if ports}
    if spec.env == "local" and http:
        all_ports = sorted({p for ports in http.values() for p in ports})
        out.append({
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": meta("allow-node-ports", spec.namespace, labels),
            "spec": {
                "podSelector": {"matchExpressions": [
                    {"key": "app.kubernetes.io/name", "operator": "In", "values": sorted(http)},
                ]},
                "policyTypes": ["Ingress"],
                "ingress": [{
                    "from": [{"ipBlock": {"cidr": "0.0.0.0/0", "except": [POD_SUBNET]}}],
                    "ports": [{"protocol": "TCP", "port": p} for p in all_ports],
                }],
            },
        })
    return out


def render_manifests(
    project: Project,
    spec: TenantSpec,
    images: dict[str, str],
    secret_values: dict[str, dict[str, str]] | None = None,
) -> list[Manifest]:
    """Every object of the tenant, in apply order. ``secret_values`` (local only) defaults to the
    overlay's dev values; keys without a value are left out of the Secret."""
    docs: list[Manifest] = [namespace(project, spec), features_configmap(project, spec)]
    if spec.env == "local":
        docs += secret_objects(project, spec, spec.secret_values if secret_values is None else secret_values)
    docs += pvcs(project, spec)
    docs += [deployment(project, spec, w, images) for w in spec.workloads.values()]
    for w in spec.workloads.values():
        docs += services(project, spec, w)
    docs += network_policies(project, spec)
    return docs
