"""Snapshot and restore a tenant's PersistentVolumeClaims on the kind backend, through a helper pod.

Locally every stateful component is a Deployment with one claim per volume (``render.kube``), in the
tenant's own namespace. For each component that owns volumes (the first that mounts them):

1. scale it (and every other component mounting the same claims) to 0 and wait for its pods to be
   gone: Postgres and Redis flush on SIGTERM, and a ReadWriteOnce claim is free again;
2. create a helper pod from the component's *own* image (already in the cluster: nothing is
   pulled) that mounts the claims at ``/devenv-data/<key>/devenv-volume`` and only sleeps;
3. ``kubectl exec`` a ``tar`` of each mount out of it into the snapshot's staging folder (or, for a
   restore, empty the mount and untar the snapshot into it), as bytes through ``Runner.run_binary``;
4. delete the helper pod, scale back to the replicas it had, and wait for the rollout.

Step 4 runs whatever happened in 2-3 (a helper that never gets ready, a tar that fails half way), and
the snapshot is only committed once every tar is complete, so a failure never leaves a half snapshot
in ``devenv data list`` nor a component scaled to 0. Every kubectl call names the tenant's namespace
(``-n``), and only a namespace devenv labelled is touched.

The tars have the layout compose's archive API writes (one top folder ``devenv-volume``), and
``snapshot.json`` the same fields, so ``devenv data list --json`` does not depend on the backend.
Needs ``sh``, ``tar`` and ``find`` in the stateful services' images (every Debian- or
Alpine-based one, Postgres's and Redis's included).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from devenv.backends.kind import LABEL_INSTANCE, LABEL_NAME, REGISTRY_HOST, KindBackend
from devenv.data import store
from devenv.data.volumes import (
    TenantVolume,
    current_of,
    dependents,
    human,
    restorable,
    tenant_volumes,
    verify,
)
from devenv.errors import DevenvError
from devenv.model.resolve import resolve
from devenv.model.types import LABEL_PROJECT, LABEL_TENANT, TenantSpec

ROOT = "/devenv-data"
TOP = "devenv-volume"  # the tar's top folder, as compose's archive API names it
CONTAINER = "copy"
LABEL_HELPER = "dev.devenv.data-helper"
ANNOTATION_DATA_ID = "dev.devenv.data-id"  # on a claim devenv filled from a snapshot: which restore it was
READY_TIMEOUT = 120
GONE_TIMEOUT = 120
ROLLOUT_TIMEOUT = 300
# Sleeps until deleted; TERM ends it at once (the pod has no other work).
SLEEP = "trap 'exit 0' TERM; while :; do sleep 1; done"
Say = Callable[[str], None]


@dataclass(frozen=True)
class Group:
    """The volumes one component owns (it mounts them first), and every component mounting them."""

    owner: str
    volumes: tuple[TenantVolume, ...]
    mounters: tuple[str, ...]


def groups(vols: list[TenantVolume]) -> list[Group]:
    """``vols`` by owning component, in order: one helper pod per owner."""
    out: dict[str, list[TenantVolume]] = {}
    for v in vols:
        out.setdefault(v.components[0], []).append(v)
    return [Group(owner, tuple(vs), tuple(dict.fromkeys(c for v in vs for c in v.components)))
            for owner, vs in out.items()]


def helper_name(component: str) -> str:
    return f"devenv-data-{component}"[:63].rstrip("-")


def mount_dir(v: TenantVolume) -> str:
    """Where the helper mounts the claim: a ``devenv-volume`` folder, so ``tar -C <parent>`` gives
    the same top folder compose's archives have."""
    return f"{ROOT}/{v.key}/{TOP}"


def helper_pod(spec: TenantSpec, group: Group, image: str, read_only: bool) -> dict[str, Any]:
    """The helper pod (pure; validated with ``kubernetes-validate --strict`` in the tests). It carries
    no ``dev.devenv.managed`` label, so status, the monitor and teardown never take it for a component;
    root, so the copy keeps every owner (Postgres refuses a data folder with the wrong one)."""
    pod_spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "automountServiceAccountToken": False,
        "terminationGracePeriodSeconds": 5,
        "containers": [{
            "name": CONTAINER,
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            "command": ["sh", "-c", SLEEP],
            "securityContext": {"runAsUser": 0, "runAsGroup": 0},
            "volumeMounts": [{"name": v.key, "mountPath": mount_dir(v), "readOnly": read_only}
                             for v in group.volumes],
        }],
        "volumes": [{"name": v.key, "persistentVolumeClaim": {"claimName": v.key, "readOnly": read_only}}
                    for v in group.volumes],
    }
    if spec.node_selector:
        pod_spec["nodeSelector"] = dict(sorted(spec.node_selector.items()))
    labels = {LABEL_HELPER: group.owner, LABEL_PROJECT: spec.project, LABEL_TENANT: spec.name}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": helper_name(group.owner), "namespace": spec.namespace, "labels": labels},
            "spec": pod_spec}


def tar_out(v: TenantVolume) -> list[str]:
    return ["tar", "-C", f"{ROOT}/{v.key}", "-cf", "-", TOP]


def tar_in(v: TenantVolume) -> list[str]:
    """Empty the claim, then unpack the snapshot's tar (numeric owners: the ids the data had)."""
    return ["sh", "-c", f"find {mount_dir(v)} -mindepth 1 -delete && "
                        f"tar -C {ROOT}/{v.key} -xpf - --numeric-owner"]


class KindData:
    """Snapshot/restore for one project on the kind backend (see the module docstring)."""

    def __init__(self, backend: KindBackend, say: Say | None = None) -> None:
        self.backend = backend
        self.project = backend.project
        self.root = backend.project.app.root
        self.say: Say = say or (lambda msg: None)

    def spec(self, tenant: str) -> TenantSpec:
        return resolve(self.project, tenant, "local")

    # -- what the cluster has ---------------------------------------------------------------------
    def _json(self, *args: str) -> dict[str, Any]:
        obj: dict[str, Any] = json.loads(self.backend.kubectl(*args, "-o", "json").stdout or "{}")
        return obj

    def engine_volumes(self, tenant: str) -> dict[str, Any]:
        """The tenant's claims by name ({} when its namespace, or the cluster, does not exist)."""
        spec = self.spec(tenant)
        res = self.backend.kubectl("get", "pvc", "-n", spec.namespace, "-l", f"{LABEL_TENANT}={tenant}", "-o", "json",
                                   check=False)
        if res.code != 0:
            return {}
        return {i["metadata"]["name"]: i for i in json.loads(res.stdout or "{}").get("items", [])}

    def volume_ids(self, tenant: str) -> dict[str, str]:
        """Which data each claim holds: the restore that filled it (an annotation), else ''. A claim
        recreated since (``down --volumes`` deletes the namespace) has none."""
        return {n: str((c["metadata"].get("annotations") or {}).get(ANNOTATION_DATA_ID, ""))
                for n, c in sorted(self.engine_volumes(tenant).items())}

    def current(self, tenant: str) -> str:
        """The snapshot the tenant's data came from ('' for its own data); asks the cluster only
        when a restore was recorded."""
        state = store.read_state(self.root, tenant)
        return current_of(state, self.volume_ids(tenant)) if state.get("snapshot") else ""

    def _namespace(self, tenant: str) -> str:
        ns = self.backend.owned_namespace(tenant)
        if ns is None:
            raise DevenvError(f"tenant {tenant} has never been started on kind: it has no data yet",
                              f"start it first: `devenv up --backend kind --tenant {tenant}`")
        return ns

    def _deployments(self, ns: str) -> dict[str, dict[str, Any]]:
        """Component -> its Deployment (only the ones devenv labelled for this tenant)."""
        items = self._json("get", "deployments", "-n", ns, "-l", f"{LABEL_PROJECT}={self.project.app.name}")
        return {(d["metadata"].get("labels") or {}).get(LABEL_NAME, d["metadata"]["name"]): d
                for d in items.get("items", [])}

    def _claims(self, spec: TenantSpec, vols: list[TenantVolume]) -> None:
        have = self.engine_volumes(spec.name)
        missing = [v.key for v in vols if v.key not in have]
        if missing:
            raise DevenvError(f"tenant {spec.name}: claim(s) {', '.join(missing)} do not exist in {spec.namespace}",
                              f"start the tenant once (`devenv up --backend kind --tenant {spec.name}`)")

    def images(self, ns: str, tenant: str) -> dict[str, store.ImageEntry]:
        """The image every component's pod runs (the builder's reference, and the image id)."""
        pods = self._json("get", "pods", "-n", ns, "-l", f"{LABEL_INSTANCE}={tenant}")
        out = {}
        for p in pods.get("items", []):
            comp = (p["metadata"].get("labels") or {}).get(LABEL_NAME, "")
            statuses = (p.get("status") or {}).get("containerStatuses") or [{}]
            ref = p["spec"]["containers"][0].get("image", "")
            if comp:
                out[comp] = store.ImageEntry(ref=ref.removeprefix(f"{REGISTRY_HOST}/"),
                                             id=str(statuses[0].get("imageID", "")))
        return out

    @staticmethod
    def _image(deps: dict[str, dict[str, Any]], spec: TenantSpec, component: str) -> str:
        dep = deps.get(component)
        if dep is None:
            raise DevenvError(f"{spec.name}/{component} has no Deployment on kind, so no image to copy its data with",
                              f"start the tenant (`devenv up --backend kind --tenant {spec.name}`), then try again")
        return str(dep["spec"]["template"]["spec"]["containers"][0]["image"])

    # -- scaling --------------------------------------------------------------------------------------
    @staticmethod
    def _replicas(deps: dict[str, dict[str, Any]], components: list[str]) -> dict[str, int]:
        """The running ones among ``components`` and how many replicas each had."""
        reps = {c: int(deps[c]["spec"].get("replicas", 1)) for c in components if c in deps}
        return {c: n for c, n in reps.items() if n > 0}

    def _scale_down(self, spec: TenantSpec, replicas: dict[str, int]) -> None:
        if not replicas:
            return
        self.say(f"scaling {', '.join(replicas)} to 0 for a consistent copy")
        for comp in replicas:
            self.backend.kubectl("scale", f"deployment/{comp}", "--replicas=0", "-n", spec.namespace)
        names = ",".join(replicas)
        res = self.backend.kubectl("wait", "--for=delete", "pod", "-n", spec.namespace, "-l",
                                   f"{LABEL_INSTANCE}={spec.name},{LABEL_NAME} in ({names})",
                                   f"--timeout={GONE_TIMEOUT}s", check=False, timeout=GONE_TIMEOUT + 30)
        if res.code != 0 and "no matching resources" not in res.stderr:
            raise DevenvError(f"the pods of {spec.name}/{names} did not stop within {GONE_TIMEOUT} s: "
                              f"{res.stderr.strip()}", f"`kubectl --context {self.backend.context} -n "
                              f"{spec.namespace} get pods`")

    def _scale_up(self, spec: TenantSpec, replicas: dict[str, int]) -> None:
        """Back to the replicas each had (in the reverse order of scaling down), then wait for each
        rollout; every one is tried."""
        problems = []
        order = list(reversed(replicas))
        for comp in order:
            n = replicas[comp]
            res = self.backend.kubectl("scale", f"deployment/{comp}", f"--replicas={n}", "-n", spec.namespace,
                                       check=False)
            if res.code != 0:
                problems.append(f"{comp}: {res.stderr.strip()}")
        for comp in order:
            res = self.backend.kubectl("rollout", "status", f"deployment/{comp}", "-n", spec.namespace,
                                       f"--timeout={ROLLOUT_TIMEOUT}s", check=False, timeout=ROLLOUT_TIMEOUT + 30)
            if res.code != 0:
                problems.append(f"{comp}: {(res.stderr or res.stdout).strip()}")
        if problems:
            raise DevenvError(f"tenant {spec.name}: not every component came back:\n    " + "\n    ".join(problems),
                              f"`devenv up --backend kind --tenant {spec.name}`")

    # -- the helper pod --------------------------------------------------------------------------------
    @contextmanager
    def _helper(self, spec: TenantSpec, group: Group, image: str, read_only: bool) -> Iterator[str]:
        """The helper pod, ready; deleted on the way out whatever happened."""
        from devenv.render.yamldump import dump

        name = helper_name(group.owner)
        ns = spec.namespace
        self.backend.kubectl("delete", "pod", name, "-n", ns, "--ignore-not-found", "--wait=true")  # a leftover
        try:
            # -n as well: kubectl refuses a manifest whose namespace differs from it
            self.backend.kubectl("create", "-n", ns, "-f", "-", input=dump(helper_pod(spec, group, image, read_only)))
            res = self.backend.kubectl("wait", "--for=condition=Ready", f"pod/{name}", "-n", ns,
                                       f"--timeout={READY_TIMEOUT}s", check=False, timeout=READY_TIMEOUT + 30)
            if res.code != 0:
                raise DevenvError(f"the helper pod {name} in {ns} did not become ready within {READY_TIMEOUT} s: "
                                  f"{(res.stderr or res.stdout).strip()}",
                                  f"`kubectl --context {self.backend.context} -n {ns} describe pod/{name}` says why "
                                  "(its image needs sh and tar)")
            yield name
        finally:
            self.backend.kubectl("delete", "pod", name, "-n", ns, "--ignore-not-found", "--wait=true", check=False)

    @contextmanager
    def _stopped(self, spec: TenantSpec, replicas: dict[str, int]) -> Iterator[None]:
        """``replicas`` scaled to 0 inside, and back afterwards (also after a failure, whose error
        wins over one of scaling back)."""
        try:
            self._scale_down(spec, replicas)
            yield
        except BaseException:
            try:
                self._scale_up(spec, replicas)
            except DevenvError as exc:
                self.say(exc.message)
            raise
        self._scale_up(spec, replicas)

    # -- snapshot -----------------------------------------------------------------------------------
    def snapshot(self, tenant: str, name: str | None = None) -> store.Snapshot:
        """Copy every claim of the tenant, each group while the components mounting it are scaled to 0."""
        name = store.check_name(name or store.default_name())
        spec = self.spec(tenant)
        vols = tenant_volumes(spec)
        if not vols:
            raise DevenvError(f"tenant {tenant} has no data: none of its components mounts a volume",
                              "declare `volumes:` on the stateful services in devenv.yaml")
        ns = self._namespace(tenant)
        self._claims(spec, vols)
        deps = self._deployments(ns)
        images = self.images(ns, tenant)
        entries: dict[str, store.VolumeEntry] = {}
        with store.staging(self.root, tenant, name) as tmp:
            for g in groups(vols):
                image = self._image(deps, spec, g.owner)
                with self._stopped(spec, self._replicas(deps, list(g.mounters))), \
                        self._helper(spec, g, image, read_only=True) as pod:
                    for v in g.volumes:
                        entries[v.key] = self._copy_out(spec, pod, v, tmp)
            snap = store.Snapshot(tenant=tenant, name=name, created=store.now_iso(), backend="kind",
                                  app=self.project.app.name, volumes=tuple(entries[v.key] for v in vols), images=images)
            return store.commit(tmp, snap)

    def _copy_out(self, spec: TenantSpec, pod: str, v: TenantVolume, tmp: Path) -> store.VolumeEntry:
        file = f"{v.key}.tar"
        t0 = time.perf_counter()
        res = self.backend.kubectl_binary("exec", pod, "-n", spec.namespace, "-c", CONTAINER, "--", *tar_out(v),
                                          stdout=tmp / file, check=False)
        if res.code != 0:
            raise DevenvError(f"{spec.name}: copying claim {v.key} out of {pod} failed (exit {res.code}): "
                              f"{res.stderr.strip()}", "no snapshot was kept; the tenant runs as before")
        (tmp / file).chmod(0o600)
        size, sha = _digest(tmp / file)
        self.say(f"{v.key}: {human(size)} in {time.perf_counter() - t0:.1f} s")
        return store.VolumeEntry(volume=v.key, component=v.components[0], target=v.target, file=file,
                                 bytes=size, sha256=sha)

    # -- restore --------------------------------------------------------------------------------------
    def restore(self, tenant: str, name: str) -> store.Snapshot:
        """Replace the tenant's claims' content by the snapshot's; scale back what was running."""
        snap = store.read(self.root, tenant, name)
        verify(snap)
        spec = self.spec(tenant)
        vols = restorable(spec, snap)
        ns = self._namespace(tenant)
        self._claims(spec, vols)
        deps = self._deployments(ns)
        stateful = sorted({c for v in vols for c in v.components})
        # down in this order (dependents first), up in the reverse one (the data first)
        running = self._replicas(deps, [*dependents(spec, stateful), *stateful])
        data_id = f"{snap.name}@{store.now_iso()}"
        with self._stopped(spec, running):
            for g in groups(vols):
                image = self._image(deps, spec, g.owner)
                with self._helper(spec, g, image, read_only=False) as pod:
                    for v in g.volumes:
                        self._copy_in(spec, pod, v, snap, data_id)
            store.write_state(self.root, tenant, {"snapshot": snap.name, "restored": store.now_iso(),
                                                  "volumes": self.volume_ids(tenant)})
        if not running:
            self.say(f"{tenant} had nothing running; `devenv up --backend kind --tenant {tenant}` starts it")
        return snap

    def _copy_in(self, spec: TenantSpec, pod: str, v: TenantVolume, snap: store.Snapshot, data_id: str) -> None:
        entry = next(e for e in snap.volumes if e.volume == v.key)
        assert snap.path is not None
        t0 = time.perf_counter()
        res = self.backend.kubectl_binary("exec", "-i", pod, "-n", spec.namespace, "-c", CONTAINER, "--", *tar_in(v),
                                          stdin=snap.path / entry.file, check=False)
        if res.code != 0:
            raise DevenvError(f"{spec.name}: writing snapshot {snap.name} into claim {v.key} failed (exit {res.code}):"
                              f" {res.stderr.strip()}", f"the claim may be half written: restore again "
                              f"(`devenv data restore --backend kind --tenant {spec.name} {snap.name}`)")
        self.backend.kubectl("annotate", "pvc", v.key, "-n", spec.namespace, f"{ANNOTATION_DATA_ID}={data_id}",
                             "--overwrite")
        self.say(f"{v.key}: {human(entry.bytes)} restored in {time.perf_counter() - t0:.1f} s")

    # -- running a command with a file on its stdin (devenv data load) --------------------------------
    def service_env(self, tenant: str, component: str, names: Iterable[str]) -> dict[str, str]:
        """``names`` from the environment of the component's running container, read by ``kubectl
        exec`` (the values may come from Secrets the Deployment only references)."""
        wanted = [n for n in names if n.isidentifier()]
        script = "; ".join(f'echo "{n}=${n}"' for n in wanted)
        res = self.backend.kubectl("exec", f"deployment/{component}", "-n", self._namespace(tenant), "-c", component,
                                   "--", "sh", "-c", script, check=False)
        if res.code != 0:
            raise DevenvError(f"{tenant}/{component} is not running on kind: {res.stderr.strip()}",
                              f"start it: `devenv up --backend kind --tenant {tenant}`")
        pairs = dict(line.split("=", 1) for line in res.stdout.splitlines() if "=" in line)
        return {n: v for n, v in pairs.items() if n in wanted and v}

    def exec_stdin(self, tenant: str, component: str, cmd: list[str], env: dict[str, str], src: Path,
                   tick: Callable[[int], None]) -> tuple[int, str]:
        """Run ``cmd`` in the component's pod with ``src`` streamed as bytes to its stdin (``kubectl
        exec -i``, ``env`` set by ``env K=V``). kubectl reports no progress, so ``tick`` hears the
        whole size once it is done."""
        ns = self._namespace(tenant)
        argv = ["exec", "-i", f"deployment/{component}", "-n", ns, "-c", component, "--", "env",
                *(f"{k}={v}" for k, v in env.items()), *cmd]
        res = self.backend.kubectl_binary(*argv, stdin=src, check=False)
        tick(src.stat().st_size)
        return res.code, res.stdout + res.stderr

    def list(self, tenant: str | None = None) -> list[store.Snapshot]:
        return store.list_snapshots(self.root, tenant)


def _digest(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as f:
        for chunk in iter(partial(f.read, 1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()
