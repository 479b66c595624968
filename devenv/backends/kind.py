"""The kind backend: each tenant in its own namespace of one local kind cluster per project.

It drives the real ``kind``, ``kubectl`` and ``docker`` CLIs, always through the ``Runner`` (the
contract tests stand a fake at exactly that boundary and assert the argv and stdin of every call).
Three safety rules shape it:

* every kubectl call names its context; a context other than ``kind-devenv-<app>`` is used only when
  the caller passed it explicitly (a stale ``DEVENV_KUBE_CONTEXT`` must never reach production:
  skaffold#812 is what happens otherwise);
* teardown touches one tenant's namespace and only when devenv labelled it;
* images move through a local registry (only changed layers travel) and fall back to
  ``kind load docker-image`` (whole images, every time: kind#380) only when no registry can run.
"""

from __future__ import annotations

import base64
import io
import json
import os
import tarfile
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from devenv.backends.base import SHELL, Backend, ComponentStatus, Emit, LogSink, Monitor, SyncFile, iso_epoch
from devenv.errors import DevenvError, EngineError, ToolMissing
from devenv.events import ComponentState, TenantState, Timeline
from devenv.model.resolve import resolve
from devenv.model.types import LABEL_MANAGED, LABEL_PROJECT, LABEL_TENANT, Project, TenantSpec
from devenv.proc import Result, Runner, default_runner

REGISTRY_NAME = "devenv-registry"
REGISTRY_IMAGE = "registry:2"
REGISTRY_PORT = 5001
REGISTRY_HOST = f"localhost:{REGISTRY_PORT}"
REGISTRY = f"{REGISTRY_NAME}:{REGISTRY_PORT}"  # <container name>:<host port>, as the renderers take it
KIND_NETWORK = "kind"
FIELD_MANAGER = "devenv"
CONTEXT_ENV = "DEVENV_KUBE_CONTEXT"
LABEL_NAME = "app.kubernetes.io/name"
LABEL_INSTANCE = "app.kubernetes.io/instance"

KIND_INSTALL = ("go install sigs.k8s.io/kind@v0.24.0  (or the release binary: curl -Lo kind "
                "https://kind.sigs.k8s.io/dl/v0.24.0/kind-linux-amd64 && chmod +x kind && sudo mv kind "
                "/usr/local/bin/; macOS: brew install kind)")
KUBECTL_INSTALL = ("curl -LO https://dl.k8s.io/release/v1.31.0/bin/linux/amd64/kubectl && sudo install -m 0755 "
                   "kubectl /usr/local/bin/kubectl  (macOS: brew install kubectl; others: "
                   "https://kubernetes.io/docs/tasks/tools/)")


def cluster_name_for(project: Project) -> str:
    return f"devenv-{project.app.name}"


def registry_ref(ref: str) -> str:
    """``ref`` as the cluster pulls it from the local registry (any registry host is replaced)."""
    first, _, rest = ref.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        ref = rest
    return f"{REGISTRY_HOST}/{ref}"


def node_label_problems(nodes: dict[str, Any], specs: Iterable[TenantSpec]) -> list[str]:
    """Why the live cluster cannot place a tenant as production does: one line per tenant whose
    node selector no node's labels satisfy (``nodes`` is ``kubectl get nodes -o json``)."""
    labels = [n.get("metadata", {}).get("labels", {}) or {} for n in nodes.get("items", [])]
    problems = []
    for spec in specs:
        sel = spec.node_selector
        if sel and not any(all(lab.get(k) == v for k, v in sel.items()) for lab in labels):
            want = ", ".join(f"{k}={v}" for k, v in sorted(sel.items()))
            problems.append(f"no node carries {want} (tenant {spec.name})")
    return problems


def deployments_of(manifests: list[dict[str, Any]]) -> dict[str, str]:
    """Deployment name -> its first container's name, in manifest order."""
    out: dict[str, str] = {}
    for m in manifests:
        if m.get("kind") == "Deployment":
            containers = m["spec"]["template"]["spec"]["containers"]
            out[m["metadata"]["name"]] = containers[0]["name"]
    return out


def sync_tar_b64(files: list[SyncFile]) -> str:
    """The files to copy as a base64 tar rooted at ``/``. Base64 because the Runner speaks text and
    a tar of arbitrary files is not text; ``base64 -d`` is in every Debian-based image."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for f in files:
            if f.src is not None:
                tar.add(str(f.src), arcname=f.dest.lstrip("/"), recursive=False)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _deploy_status(tenant: str, dep: dict[str, Any], pods: list[dict[str, Any]], url: str,
                   ports: str) -> ComponentStatus:
    """One Deployment (and its pods) as a status row."""
    spec, st = dep.get("spec", {}), dep.get("status", {})
    want, ready = int(spec.get("replicas", 1)), int(st.get("readyReplicas", 0) or 0)
    waiting = [cs.get("state", {}).get("waiting", {}).get("reason", "")
               for p in pods for cs in p.get("status", {}).get("containerStatuses", []) or []]
    crashing = any(r in ("CrashLoopBackOff", "Error", "ImagePullBackOff", "ErrImagePull") for r in waiting)
    if want == 0:
        state, health = "stopped", "none"
    elif ready >= want:
        state, health = "running", "healthy"
    elif crashing:
        state, health = "restarting", "unhealthy"
    else:
        state, health = "starting", "starting"
    containers = dep["spec"]["template"]["spec"]["containers"]
    name = dep["metadata"].get("labels", {}).get(LABEL_NAME, dep["metadata"]["name"])
    return ComponentStatus(tenant, name, state, health, containers[0].get("image", ""), url if state == "running" else "",
                           ready, ports)


class KindBackend(Backend):
    """Tenants as namespaces of the kind cluster ``devenv-<app>``."""

    name = "kind"

    def __init__(self, project: Project, emit: Emit | None = None, runner: Runner = default_runner,
                 context: str | None = None, cluster_name: str | None = None) -> None:
        super().__init__(project, emit)
        self.runner = runner
        self.cluster = cluster_name or cluster_name_for(project)
        self.expected_context = f"kind-{self.cluster}"
        self.context_explicit = context is not None
        self.context = context or os.environ.get(CONTEXT_ENV) or self.expected_context
        self.registry_ok: bool | None = None  # None: not decided yet in this process
        self._cluster_ready = False
        # The engine brings tenants up in parallel threads; one of them creates the cluster.
        self._lock = threading.RLock()

    # -- tools and guards ---------------------------------------------------------------------

    def check(self) -> None:
        """kind, kubectl and a reachable Docker engine, checked before anything runs."""
        for tool, how in (("kind", KIND_INSTALL), ("kubectl", KUBECTL_INSTALL)):
            if self.runner.which(tool) is None:
                raise ToolMissing(f"the kind backend needs '{tool}', which is not on PATH", how)
        if self.runner.which("docker") is None:
            raise ToolMissing("the kind backend needs the 'docker' CLI, which is not on PATH",
                              "install Docker Engine (https://docs.docker.com/engine/install/) and run `devenv doctor`")
        res = self.runner.run(["docker", "info", "--format", "{{.ServerVersion}}"], check=False, timeout=30)
        if res.code != 0:
            raise EngineError("the Docker engine does not answer (kind runs its nodes as containers)",
                              "start Docker (`sudo systemctl start docker`, or Docker Desktop); `devenv doctor --fix` can start dockerd as root")
        self.guard_context()

    def guard_context(self) -> None:
        """Refuse a kube context that is not this project's kind cluster unless passed explicitly."""
        if self.context == self.expected_context or self.context_explicit:
            return
        raise DevenvError(
            f"refusing kube context '{self.context}' (from ${CONTEXT_ENV}): devenv only acts on "
            f"'{self.expected_context}' unless you name another context explicitly",
            f"unset {CONTEXT_ENV}, or pass --context {self.context} if you really mean that cluster")

    def _kubectl(self, *args: str, input: str | None = None, check: bool = True,
                 timeout: float | None = 120, sink: Callable[[str], None] | None = None) -> Result:
        return self.runner.run(["kubectl", "--context", self.context, *args], input=input, check=check,
                               timeout=timeout, sink=sink)

    def kubectl(self, *args: str, input: str | None = None, check: bool = True, timeout: float | None = 120) -> Result:
        """A kubectl call on this project's context (``devenv.data.kind`` drives its helper pods so)."""
        return self._kubectl(*args, input=input, check=check, timeout=timeout)

    def kubectl_binary(self, *args: str, stdin: Path | None = None, stdout: Path | None = None, check: bool = True,
                       timeout: float | None = None) -> Result:
        """A kubectl call whose stdin comes from a file or whose stdout goes into one, as bytes
        (a volume's tar out of, or into, a pod): ``Runner.run_binary``."""
        return self.runner.run_binary(["kubectl", "--context", self.context, *args], stdin=stdin, stdout=stdout,
                                      check=check, timeout=timeout)

    def owned_namespace(self, tenant: str) -> str | None:
        """The tenant's namespace when devenv labelled it; None when it does not exist. A namespace
        devenv did not create is refused: nothing in it is read or written."""
        ns = self._namespace(tenant)
        obj = self._get_namespace(ns)
        if obj is not None and not self._owned(obj):
            raise DevenvError(f"namespace {ns} does not carry {LABEL_MANAGED}=true: devenv did not create it and "
                              "will not read or write its data", f"run tenant {tenant} in a namespace devenv owns")
        return ns if obj is not None else None

    def _docker(self, *args: str, input: str | None = None, check: bool = True, timeout: float | None = 300) -> Result:
        return self.runner.run(["docker", *args], input=input, check=check, timeout=timeout)

    def _kind(self, *args: str, input: str | None = None, check: bool = True, timeout: float | None = 600) -> Result:
        return self.runner.run(["kind", *args], input=input, check=check, timeout=timeout)

    def _info(self, message: str, kind: str = "info") -> None:
        self.emit(Timeline(kind, message))  # type: ignore[arg-type]

    # -- cluster ------------------------------------------------------------------------------

    def cluster_exists(self) -> bool:
        out = self._kind("get", "clusters", timeout=60).stdout
        return self.cluster in out.split()

    def ensure_cluster(self, specs: list[TenantSpec] | None = None) -> None:
        """Create the cluster (nodes labelled for every tenant of the project, so any tenant can be
        added later) or check the existing one still places ``specs`` as production does."""
        specs = specs if specs is not None else self._all_specs()
        self.guard_context()
        with self._lock:
            self.ensure_registry_container()
            if not self.cluster_exists():
                self._create_cluster(self._all_specs(specs))
            else:
                self._verify_nodes(specs)
            if self.registry_ok:
                self._wire_registry()
            self._cluster_ready = True

    def _all_specs(self, extra: list[TenantSpec] | None = None) -> list[TenantSpec]:
        specs = {s.name: s for s in (extra or [])}
        for tenant in self.project.profiles:
            specs.setdefault(tenant, resolve(self.project, tenant, "local"))
        return list(specs.values())

    def _create_cluster(self, specs: list[TenantSpec]) -> None:
        from devenv.render.kind_cluster import render_cluster
        from devenv.render.yamldump import dump

        config = render_cluster(self.project, specs, name=self.cluster, registry=REGISTRY)
        self._info(f"creating kind cluster {self.cluster} (about 20 s per node)")
        t0 = time.monotonic()
        self._kind("create", "cluster", "--name", self.cluster, "--config", "-", input=dump(config))
        self.emit(Timeline("up", f"kind cluster {self.cluster} created", cost_ms=(time.monotonic() - t0) * 1000))

    def _verify_nodes(self, specs: list[TenantSpec]) -> None:
        nodes = json.loads(self._kubectl("get", "nodes", "-o", "json").stdout or "{}")
        problems = node_label_problems(nodes, specs)
        if problems:
            raise DevenvError(
                f"the kind cluster {self.cluster} cannot place every tenant as production does: " + "; ".join(problems),
                f"recreate it with labels for every tenant: `devenv down --backend kind --cluster` "
                f"(or `kind delete cluster --name {self.cluster}`), then `devenv up --backend kind` again")

    def delete_cluster(self) -> None:
        """``devenv down --cluster``: the whole cluster. The registry container stays (it caches
        layers for the next cluster); ``docker rm -f devenv-registry`` removes it."""
        self.guard_context()
        if not self.cluster_exists():
            self._info(f"no kind cluster {self.cluster}; nothing to delete")
            return
        self._kind("delete", "cluster", "--name", self.cluster)
        self.emit(Timeline("down", f"kind cluster {self.cluster} deleted"))

    # -- registry -----------------------------------------------------------------------------

    def ensure_registry_container(self) -> bool:
        """Run ``registry:2`` as devenv-registry on 127.0.0.1:5001 (kind's documented recipe); when
        the image is absent and cannot be pulled, record that images go by ``kind load``."""
        with self._lock:
            if self.registry_ok is None:
                self.registry_ok = self._start_registry()
            return self.registry_ok

    def _start_registry(self) -> bool:
        state = self._docker("inspect", "-f", "{{.State.Running}}", REGISTRY_NAME, check=False)
        if state.code == 0:
            if state.stdout.strip() != "true":
                self._docker("start", REGISTRY_NAME)
            return True
        if not self._registry_image_available():
            self._info(f"no local registry: image {REGISTRY_IMAGE} is not present and cannot be pulled, so images "
                       f"go into kind with `kind load docker-image` (whole images every time); "
                       f"`docker pull {REGISTRY_IMAGE}` once to get layer-by-layer pushes", "warn")
            return False
        self._docker("run", "-d", "--restart=always", "-p", f"127.0.0.1:{REGISTRY_PORT}:5000", "--network", "bridge",
                     "--name", REGISTRY_NAME, "--label", f"{LABEL_MANAGED}=true", REGISTRY_IMAGE)
        self._info(f"local registry {REGISTRY_NAME} runs on 127.0.0.1:{REGISTRY_PORT}")
        return True

    def _registry_image_available(self) -> bool:
        if self._docker("image", "inspect", REGISTRY_IMAGE, check=False).code == 0:
            return True
        return self._docker("pull", REGISTRY_IMAGE, check=False, timeout=180).code == 0

    def _wire_registry(self) -> None:
        """Connect the registry to the kind network, point each node's containerd at it, and
        publish it with the KEP-1755 ``local-registry-hosting`` ConfigMap. Idempotent."""
        nets = self._docker("inspect", "-f", "{{json .NetworkSettings.Networks}}", REGISTRY_NAME).stdout
        if KIND_NETWORK not in json.loads(nets or "{}"):
            self._docker("network", "connect", KIND_NETWORK, REGISTRY_NAME)
        from devenv.render.kind_cluster import registry_configmap, registry_hosts_toml
        from devenv.render.yamldump import dump

        certs_dir, hosts_toml = registry_hosts_toml(REGISTRY)
        for node in self._kind("get", "nodes", "--name", self.cluster, timeout=60).stdout.split():
            self._docker("exec", node, "mkdir", "-p", certs_dir)
            self._docker("exec", "-i", node, "cp", "/dev/stdin", f"{certs_dir}/hosts.toml", input=hosts_toml)
        self._apply(dump(registry_configmap(REGISTRY)))

    # -- images -------------------------------------------------------------------------------

    def load_images(self, refs: list[str]) -> dict[str, str]:
        """Make ``refs`` pullable in the cluster; return each ref as the pods must name it."""
        refs = list(dict.fromkeys(refs))
        if not refs:
            return {}
        if self.ensure_registry_container():
            return {ref: self._push(ref) for ref in refs}
        t0 = time.monotonic()
        self._kind("load", "docker-image", "--name", self.cluster, *refs)
        self.emit(Timeline("info", f"loaded {len(refs)} image(s) with kind load", detail=tuple(refs),
                           cost_ms=(time.monotonic() - t0) * 1000))
        return {ref: ref for ref in refs}

    def _push(self, ref: str) -> str:
        target = registry_ref(ref)
        self._docker("tag", ref, target)
        self._docker("push", target)
        return target

    # -- tenants ------------------------------------------------------------------------------

    def _namespace(self, tenant: str) -> str:
        prof = self.project.profiles.get(tenant)
        return prof.namespace if prof else tenant

    def _get_namespace(self, ns: str) -> dict[str, Any] | None:
        res = self._kubectl("get", "namespace", ns, "-o", "json", check=False)
        if res.code != 0:
            if "NotFound" in res.stderr or "not found" in res.stderr:
                return None
            raise EngineError(f"kubectl could not read namespace {ns}: {res.stderr.strip()}",
                              f"is the cluster up? `kind get clusters`, `kubectl --context {self.context} get nodes`")
        obj: dict[str, Any] = json.loads(res.stdout or "{}")
        return obj

    def _owned(self, ns_obj: dict[str, Any]) -> bool:
        labels = ns_obj.get("metadata", {}).get("labels", {}) or {}
        return labels.get(LABEL_MANAGED) == "true"

    def _apply(self, yaml_text: str) -> None:
        self._kubectl("apply", "--server-side", "--field-manager", FIELD_MANAGER, "--force-conflicts", "-f", "-",
                      input=yaml_text)

    def _manifests(self, spec: TenantSpec, images: dict[str, str]) -> list[dict[str, Any]]:
        from devenv.render.kube import render_manifests
        from devenv.secrets import local_secret_values

        # The same stored values compose uses, so a tenant's database password does not change
        # when it moves between backends.
        return render_manifests(self.project, spec, images, local_secret_values(self.project.app.root, spec))

    def _cluster_images(self, spec: TenantSpec, images: dict[str, str],
                        components: Iterable[str] | None = None) -> dict[str, str]:
        """``images`` with the tenant's built images replaced by the refs the cluster pulls."""
        wanted = set(components) if components is not None else set(spec.workloads)
        keys = {w.build_image for n, w in spec.workloads.items() if n in wanted and w.build_image}
        missing = sorted(k for k in keys if k not in images)
        if missing:
            raise DevenvError(f"no built image for {', '.join(missing)}", "build first (`devenv build`)")
        loaded = self.load_images([images[k] for k in sorted(keys)])
        return {k: loaded.get(v, v) for k, v in images.items()}

    def up(self, spec: TenantSpec, images: dict[str, str], wait: bool = True, timeout: float = 300) -> None:
        self.guard_context()
        with self._lock:
            if not self._cluster_ready:
                self.ensure_cluster([spec])
        existing = self._get_namespace(spec.namespace)
        if existing is not None and not self._owned(existing):
            raise DevenvError(f"namespace {spec.namespace} exists and devenv did not create it ({LABEL_MANAGED} is not set)",
                              f"devenv will not take it over; delete it yourself or run tenant {spec.name} elsewhere")
        manifests = self._manifests(spec, self._cluster_images(spec, images))
        from devenv.render.yamldump import dump_all

        self._apply(dump_all(manifests))
        deps = deployments_of(manifests)
        for comp in deps:
            self.emit(ComponentState(spec.name, comp, "starting"))
        if wait:
            self._wait_rollouts(spec, list(deps), timeout)

    def _wait_rollouts(self, spec: TenantSpec, deployments: list[str], timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for dep in deployments:
            left = max(1, int(deadline - time.monotonic()))
            res = self._kubectl("rollout", "status", f"deployment/{dep}", "-n", spec.namespace,
                                f"--timeout={left}s", check=False, timeout=left + 30)
            if res.code != 0:
                detail = (res.stderr or res.stdout).strip()
                self.emit(ComponentState(spec.name, dep, "unhealthy", health="unhealthy", detail=detail))
                raise DevenvError(f"{spec.name}/{dep} did not become ready within {timeout:.0f} s: {detail}",
                                  f"`devenv logs --backend kind -t {spec.name} {dep}`, or "
                                  f"`kubectl --context {self.context} -n {spec.namespace} describe deployment/{dep}`")
            self.emit(ComponentState(spec.name, dep, "healthy", health="healthy", url=self._url(spec, dep)))

    def _url(self, spec: TenantSpec, component: str) -> str:
        w = spec.workloads.get(component)
        http = [p for p in (w.ports if w else ()) if p.http]
        return f"http://127.0.0.1:{http[0].host}/" if http else ""

    def redeploy(self, spec: TenantSpec, images: dict[str, str], components: list[str], timeout: float = 300,
                 wait: bool = True) -> None:
        """Point only the affected Deployments at their new images (``kubectl set image``)."""
        self.guard_context()
        cluster_images = self._cluster_images(spec, images, components)
        deps = deployments_of(self._manifests(spec, cluster_images))
        changed = [c for c in components if c in deps and spec.workloads[c].build_image]
        for comp in changed:
            ref = cluster_images[spec.workloads[comp].build_image or ""]
            self._kubectl("set", "image", f"deployment/{comp}", f"{deps[comp]}={ref}", "-n", spec.namespace,
                          "--field-manager", FIELD_MANAGER)
            self.emit(Timeline("redeploy", f"{spec.name}/{comp} -> {ref}", component=comp, tenants=(spec.name,)))
        if wait:
            self._wait_rollouts(spec, changed, timeout)

    def down(self, tenant: str, volumes: bool = False) -> None:
        """Only a namespace devenv labelled. Without ``volumes`` the namespace and its
        PersistentVolumeClaims stay (like compose keeping volumes); with it, the namespace goes."""
        self.guard_context()
        ns = self._namespace(tenant)
        obj = self._get_namespace(ns)
        if obj is None:
            self._info(f"{tenant}: namespace {ns} does not exist; nothing to remove")
            return
        if not self._owned(obj):
            raise DevenvError(f"namespace {ns} does not carry {LABEL_MANAGED}=true: devenv did not create it and will not delete it",
                              f"if it is yours to delete: `kubectl --context {self.context} delete namespace {ns}`")
        self.emit(TenantState(tenant, "stopping"))
        if volumes:
            self._kubectl("delete", "namespace", ns, "--wait=true", timeout=300)
        else:
            self._kubectl("delete", "deployments,services,configmaps,secrets,networkpolicies", "-n", ns,
                          "-l", f"{LABEL_MANAGED}=true", "--wait=true", timeout=300)
        self.emit(TenantState(tenant, "stopped"))

    def running_tenants(self) -> list[str]:
        """Tenants whose namespace devenv labelled for this project and that still run Deployments."""
        if not self.context_explicit and not self.cluster_exists():
            return []
        deps = json.loads(self._kubectl("get", "deployments", "-A", "-l", self._project_selector(), "-o", "json").stdout
                          or "{}")
        busy = {d["metadata"]["namespace"] for d in deps.get("items", [])}
        return sorted({t for t, ns in self._labelled_namespaces() if ns in busy})

    def tenants_with_volumes(self) -> list[str]:
        """Tenants whose labelled namespace still exists: a plain ``down`` keeps it with its claims."""
        if not self.context_explicit and not self.cluster_exists():
            return []
        return sorted({t for t, _ns in self._labelled_namespaces()})

    def _project_selector(self) -> str:
        return f"{LABEL_MANAGED}=true,{LABEL_PROJECT}={self.project.app.name}"

    def _labelled_namespaces(self) -> list[tuple[str, str]]:
        """(tenant, namespace) of every namespace devenv labelled for this project."""
        nss = json.loads(self._kubectl("get", "namespaces", "-l", self._project_selector(), "-o", "json").stdout or "{}")
        by_ns = {p.namespace: name for name, p in self.project.profiles.items()}
        out = []
        for item in nss.get("items", []):
            meta = item["metadata"]
            out.append(((meta.get("labels", {}) or {}).get(LABEL_TENANT) or by_ns.get(meta["name"], meta["name"]),
                        meta["name"]))
        return out

    def status(self, tenants: list[str] | None = None) -> list[ComponentStatus]:
        rows: list[ComponentStatus] = []
        for tenant in tenants if tenants is not None else self.running_tenants():
            rows += self._tenant_status(tenant)
        return rows

    def _tenant_status(self, tenant: str) -> list[ComponentStatus]:
        ns = self._namespace(tenant)
        items = json.loads(self._kubectl("get", "deploy,pods", "-n", ns, "-o", "json").stdout or "{}").get("items", [])
        spec = resolve(self.project, tenant, "local") if tenant in self.project.profiles else None
        pods = [i for i in items if i.get("kind") == "Pod"]
        rows = []
        for dep in (i for i in items if i.get("kind") == "Deployment"):
            comp = dep["metadata"].get("labels", {}).get(LABEL_NAME, dep["metadata"]["name"])
            mine = [p for p in pods if (p["metadata"].get("labels", {}) or {}).get(LABEL_NAME) == comp]
            w = spec.workloads.get(comp) if spec else None
            ports = ", ".join(f"{p.host}->{p.container}" for p in (w.ports if w else ()))
            rows.append(_deploy_status(tenant, dep, mine, self._url(spec, comp) if spec else "", ports))
        seen = {r.component for r in rows}
        for comp in (spec.workloads if spec else {}):
            if comp not in seen:
                rows.append(ComponentStatus(tenant, comp, "missing", "none", ""))
        return rows

    def _selector(self, tenant: str, components: list[str]) -> str:
        sel = f"{LABEL_INSTANCE}={tenant}"
        if len(components) == 1:
            return f"{sel},{LABEL_NAME}={components[0]}"
        if components:
            return f"{sel},{LABEL_NAME} in ({','.join(components)})"
        return sel

    def logs(self, tenant: str, components: list[str], follow: bool, tail: int,
             sink: Callable[[str, str], None]) -> None:
        """``kubectl logs -l ... --prefix``; each ``[pod/<pod>/<container>] line`` goes to the sink
        as (component, line)."""
        known = components or list(self.project.app.components)

        def on_line(line: str) -> None:
            comp, text = _split_prefixed(line, known)
            sink(comp, text)

        args = ["logs", "-n", self._namespace(tenant), "-l", self._selector(tenant, components), "--prefix",
                "--all-containers", f"--tail={tail}", "--max-log-requests=50"]
        if follow:
            args.append("-f")
        self._kubectl(*args, timeout=None, sink=on_line, check=False)

    def restart(self, tenant: str, component: str) -> None:
        self.guard_context()
        self._kubectl("rollout", "restart", f"deployment/{component}", "-n", self._namespace(tenant))
        self.emit(Timeline("restart", f"{tenant}/{component} restarted", component=component, tenants=(tenant,)))

    def exec(self, tenant: str, component: str, argv: list[str]) -> tuple[int, str]:
        res = self._kubectl("exec", f"deployment/{component}", "-n", self._namespace(tenant), "--", *argv,
                            check=False, timeout=None)
        return res.code, res.stdout + res.stderr

    def shell_argv(self, tenant: str, component: str) -> list[str]:
        pods = self.running_pods(tenant, component)
        if not pods:
            raise DevenvError(f"{tenant}/{component} has no running pod", f"run `devenv up --backend kind --tenant {tenant}`")
        return ["kubectl", "--context", self.context, "exec", "-it", pods[0], "-n", self._namespace(tenant),
                "--", "sh", "-c", SHELL]

    def running_image(self, tenant: str, component: str) -> str:
        """The Deployment's image as the builder named it (the registry's host taken off again)."""
        res = self._kubectl("get", f"deployment/{component}", "-n", self._namespace(tenant), "-o",
                            "jsonpath={.spec.template.spec.containers[0].image}", check=False)
        ref = res.stdout.strip() if res.code == 0 else ""
        return ref.removeprefix(f"{REGISTRY_HOST}/")

    def image_created(self, tenant: str, component: str) -> float | None:
        """When the running image was built, from the local engine that built it."""
        ref = self.running_image(tenant, component)
        if not ref:
            return None
        res = self._docker("image", "inspect", "--format", "{{.Created}}", ref, check=False, timeout=30)
        return iso_epoch(res.stdout.strip()) if res.code == 0 else None

    def monitor(self, tenants: list[str], log_sink: LogSink) -> Monitor:
        from devenv.backends.kind_monitor import KindMonitor

        return KindMonitor(self, tenants, log_sink)

    def watch_pods(self, on_line: Callable[[str], None]) -> Result:
        """``kubectl get pods --watch -o json`` over the project's namespaces, each output line to
        ``on_line`` until kubectl ends (the monitor starts it again)."""
        return self._kubectl("get", "pods", "-A", "-l", self._project_selector(), "--watch", "-o", "json",
                             timeout=None, sink=on_line, check=False)

    def running_pods(self, tenant: str, component: str) -> list[str]:
        res = self._kubectl("get", "pods", "-n", self._namespace(tenant), "-l", self._selector(tenant, [component]),
                            "--field-selector=status.phase=Running", "-o", "jsonpath={.items[*].metadata.name}")
        return res.stdout.split()

    def sync(self, tenant: str, component: str, files: list[SyncFile]) -> int:
        """Tar the files into every running pod of the component (``kubectl exec -i ... tar -x -C /``)
        and ``rm -f`` the deleted ones; return how many pods got them."""
        self.guard_context()
        ns = self._namespace(tenant)
        copies = [f for f in files if f.src is not None]
        deletes = [f.dest for f in files if f.src is None]
        pods = self.running_pods(tenant, component)
        payload = sync_tar_b64(copies) if copies else ""
        for pod in pods:
            if copies:
                self._kubectl("exec", "-i", pod, "-n", ns, "--", "sh", "-c", "base64 -d | tar -x -C /", input=payload)
            if deletes:
                self._kubectl("exec", pod, "-n", ns, "--", "rm", "-f", *deletes)
        return len(pods)


def _split_prefixed(line: str, components: list[str]) -> tuple[str, str]:
    """``[pod/web-5d9c-abcde/web] hello`` -> (``web``, ``hello``)."""
    if not line.startswith("[pod/") or "] " not in line:
        return "", line
    head, text = line[1:].split("] ", 1)
    parts = head.split("/")
    container = parts[2] if len(parts) > 2 else ""
    if container in components:
        return container, text
    pod = parts[1] if len(parts) > 1 else ""
    matches = [c for c in components if pod.startswith(f"{c}-")]
    return (max(matches, key=len) if matches else container), text
