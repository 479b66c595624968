"""Snapshot and restore a tenant's named volumes on the compose backend.

Why the engine's archive API and a helper container that never starts: ``GET/PUT
/containers/{id}/archive`` on a *created* container reads and writes the volumes mounted into it,
with every owner, mode and symlink kept (Postgres refuses a data directory with the wrong owner),
and it needs nothing inside the image (no ``tar``, no shell): it works for any service an adopted
app brings, from the service's own image, with no registry. The helper mounts the volume at a path
no image has (``/devenv-volume``), so Docker never copies image content into it.

Consistency: the components that mount a volume are stopped for the copy (Postgres and Redis flush
on SIGTERM) and started again afterwards; their dependents keep running. A restore stops the
dependents too, replaces each volume by an empty one with the same name, labels and driver, fills
it, and starts again what was running. Only volumes and containers labelled with this project and
tenant are ever touched.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from devenv import dockerclient
from devenv.backends.compose import ComposeBackend
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

MOUNT = "/devenv-volume"
LABEL_HELPER = "dev.devenv.data-helper"
LABEL_DATA_ID = "dev.devenv.data-id"  # set on a volume devenv filled from a snapshot: which restore it was
Say = Callable[[str], None]
__all__ = ["ComposeData", "TenantVolume", "dependents", "human", "tenant_volumes", "verify"]


class ComposeData:
    """Snapshot/restore for one project on the compose backend (see the module docstring)."""

    def __init__(self, backend: ComposeBackend, say: Say | None = None) -> None:
        self.backend = backend
        self.project = backend.project
        self.root = backend.project.app.root
        self.say: Say = say or (lambda msg: None)

    @property
    def client(self) -> Any:
        return self.backend.client

    # -- what exists -----------------------------------------------------------------------------
    def spec(self, tenant: str) -> TenantSpec:
        return resolve(self.project, tenant, "local")

    def engine_volumes(self, tenant: str) -> dict[str, Any]:
        """This tenant's volumes on the engine, by name (only ours: project and tenant labels)."""
        f = {"label": [f"{LABEL_PROJECT}={self.project.app.name}", f"{LABEL_TENANT}={tenant}"]}
        vols = dockerclient.engine_call(lambda: self.client.volumes.list(filters=f), "list volumes")
        return {v.name: v for v in vols}

    def _present(self, tenant: str, vols: list[TenantVolume]) -> dict[str, Any]:
        """The engine's volumes for ``vols``; a tenant that never ran says so."""
        if not vols:
            raise DevenvError(f"tenant {tenant} has no data: none of its components mounts a volume",
                              "declare `volumes:` on the stateful services in devenv.yaml")
        have = self.engine_volumes(tenant)
        missing = [v.name for v in vols if v.name not in have]
        if len(missing) == len(vols):
            raise DevenvError(f"tenant {tenant} has never been started here: it has no data volumes yet",
                              f"start it first: `devenv up --tenant {tenant}`")
        if missing:
            raise DevenvError(f"tenant {tenant}: volume(s) {', '.join(missing)} do not exist",
                              f"start the tenant once (`devenv up --tenant {tenant}`) so compose creates them")
        return have

    def running(self, tenant: str, components: Iterable[str]) -> list[str]:
        wanted = set(components)
        return sorted({c.labels.get("dev.devenv.component", "") for c in self.backend.containers(tenant, all=False)}
                      & wanted)

    def images(self, tenant: str) -> dict[str, store.ImageEntry]:
        """The image (reference and id) of every component container the tenant has."""
        out = {}
        for c in self.backend.containers(tenant):
            comp = c.labels.get("dev.devenv.component", "")
            out[comp] = store.ImageEntry(ref=c.attrs.get("Config", {}).get("Image", ""), id=c.attrs.get("Image", ""))
        return out

    def helper_image(self, tenant: str, component: str, recorded: dict[str, store.ImageEntry] | None = None) -> str:
        """The service's own image for the helper container: from its container, else from the
        tenant's rendered compose file, else the one the snapshot recorded."""
        for c in self.backend.containers(tenant, component):
            return str(c.attrs.get("Image") or c.attrs.get("Config", {}).get("Image"))
        candidates = [self._rendered_image(tenant, component)]
        if recorded and component in recorded:
            candidates += [recorded[component].id, recorded[component].ref]
        for ref in filter(None, candidates):
            if self._image_exists(ref):
                return ref
        raise DevenvError(f"no image of {tenant}/{component} is present to read its volume with",
                          f"start the tenant once: `devenv up --tenant {tenant}`")

    def _rendered_image(self, tenant: str, component: str) -> str:
        import yaml

        path = self.backend.compose_file(tenant)
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            return str(((doc.get("services") or {}).get(component) or {}).get("image") or "")
        except (OSError, yaml.YAMLError, AttributeError):
            return ""

    def _image_exists(self, ref: str) -> bool:
        import docker.errors

        try:
            self.client.images.get(ref)
            return True
        except docker.errors.ImageNotFound:
            return False

    # -- the helper container ------------------------------------------------------------------------
    def _helper(self, tenant: str, image: str, volume: str, read_only: bool) -> str:
        """A created, never started container that mounts ``volume`` at ``MOUNT``. It carries no
        project label, so status, the monitor and teardown never mistake it for a component."""
        api = self.client.api
        hc = api.create_host_config(binds={volume: {"bind": MOUNT, "mode": "ro" if read_only else "rw"}})
        res = dockerclient.engine_call(
            lambda: api.create_container(image, entrypoint=["/devenv-helper-never-started"], host_config=hc,
                                         network_disabled=True,
                                         labels={LABEL_HELPER: f"{self.project.app.name}/{tenant}"}),
            f"create a helper container for volume {volume}")
        return str(res["Id"])

    def _drop_helper(self, cid: str) -> None:
        dockerclient.engine_call(partial(self.client.api.remove_container, cid, force=True), "remove the helper")

    def read_volume(self, tenant: str, image: str, volume: str, dest: Path) -> tuple[int, str]:
        """Stream the volume's content as a tar into ``dest``; return (bytes, sha256)."""
        cid = self._helper(tenant, image, volume, read_only=True)
        try:
            stream, _ = dockerclient.engine_call(lambda: self.client.api.get_archive(cid, MOUNT),
                                                 f"read volume {volume}")
            digest, size = hashlib.sha256(), 0
            with dest.open("wb") as f:
                for chunk in stream:
                    f.write(chunk)
                    digest.update(chunk)
                    size += len(chunk)
            dest.chmod(0o600)
            return size, digest.hexdigest()
        finally:
            self._drop_helper(cid)

    def write_volume(self, tenant: str, image: str, volume: str, src: Path) -> None:
        """Unpack ``src`` (a tar whose top directory is ``devenv-volume``) into the (empty) volume."""
        cid = self._helper(tenant, image, volume, read_only=False)
        try:
            with src.open("rb") as f:
                ok = dockerclient.engine_call(lambda: self.client.api.put_archive(cid, "/", f),
                                              f"write volume {volume}")
            if not ok:
                raise DevenvError(f"the engine refused to write volume {volume}", "")
        finally:
            self._drop_helper(cid)

    # -- snapshot ------------------------------------------------------------------------------------
    def snapshot(self, tenant: str, name: str | None = None) -> store.Snapshot:
        """Copy every volume of the tenant, each while the components mounting it are stopped."""
        name = store.check_name(name or store.default_name())
        spec = self.spec(tenant)
        vols = tenant_volumes(spec)
        self._present(tenant, vols)
        images = self.images(tenant)
        entries: list[store.VolumeEntry] = []
        with store.staging(self.root, tenant, name) as tmp:
            for v in vols:
                entries.append(self._snapshot_volume(spec, v, tmp, images))
            snap = store.Snapshot(tenant=tenant, name=name, created=store.now_iso(), backend="compose",
                                  app=self.project.app.name, volumes=tuple(entries), images=images)
            return store.commit(tmp, snap)

    def _snapshot_volume(self, spec: TenantSpec, v: TenantVolume, tmp: Path,
                         images: dict[str, store.ImageEntry]) -> store.VolumeEntry:
        image = self.helper_image(spec.name, v.components[0], images)
        stopped = self.running(spec.name, v.components)
        file = f"{v.key}.tar"
        t0 = time.perf_counter()
        if stopped:
            self.say(f"stopping {', '.join(stopped)} for a consistent copy of {v.key}")
            self.backend.compose(spec.name, "stop", *stopped)
        try:
            size, sha = self.read_volume(spec.name, image, v.name, tmp / file)
        finally:
            if stopped:
                self._start(spec, stopped)
        self.say(f"{v.key}: {human(size)} in {time.perf_counter() - t0:.1f} s")
        return store.VolumeEntry(volume=v.key, component=v.components[0], target=v.target, file=file,
                                 bytes=size, sha256=sha)

    def _start(self, spec: TenantSpec, components: list[str]) -> None:
        res = self.backend.compose(spec.name, "up", "-d", "--no-build", *components, check=False)
        if res.code != 0:
            raise DevenvError(f"tenant {spec.name}: could not start {', '.join(components)} again:\n    "
                              + "\n    ".join((res.stderr or res.stdout).strip().splitlines()[-6:]),
                              f"run `devenv up --tenant {spec.name}`")
        self.backend.wait_healthy(spec, components, timeout=300)

    # -- restore -------------------------------------------------------------------------------------
    def restore(self, tenant: str, name: str) -> store.Snapshot:
        """Replace the tenant's volumes by the snapshot's; restart what was running."""
        snap = store.read(self.root, tenant, name)
        verify(snap)
        spec = self.spec(tenant)
        vols = restorable(spec, snap)
        self._ensure_volumes(spec, vols)
        stateful = sorted({c for v in vols for c in v.components})
        affected = [*stateful, *dependents(spec, stateful)]
        was_running = self.running(tenant, affected)
        self._stop_for_restore(spec, stateful, [c for c in was_running if c not in stateful])
        data_id = f"{snap.name}@{store.now_iso()}"
        for v in vols:
            self._replace_volume(spec, v, snap, data_id)
        store.write_state(self.root, tenant, {"snapshot": snap.name, "restored": store.now_iso(),
                                              "volumes": self.volume_ids(tenant)})
        if was_running:
            self.say(f"starting {', '.join(was_running)}")
            try:
                self._start(spec, [c for c in spec.workloads if c in was_running])
            except DevenvError as exc:
                raise DevenvError(f"tenant {tenant}: snapshot {snap.name} was restored, but {exc.message}",
                                  exc.hint) from exc
        else:
            self.say(f"{tenant} is not running; `devenv up --tenant {tenant}` starts it on this data")
        return snap

    def _ensure_volumes(self, spec: TenantSpec, vols: list[TenantVolume]) -> None:
        """A tenant brought down with ``--volumes`` gets its volumes (with compose's own labels)
        from ``compose create``; one that never ran here has no compose file and is refused."""
        have = self.engine_volumes(spec.name)
        missing = [v for v in vols if v.name not in have]
        if not missing:
            return
        if not self.backend.compose_file(spec.name).exists():
            raise DevenvError(f"tenant {spec.name} has never been started here",
                              f"start it from the snapshot: `devenv up --tenant {spec.name} --data NAME`")
        comps = sorted({c for v in missing for c in v.components})
        res = self.backend.compose(spec.name, "create", "--no-build", *comps, check=False)
        if res.code != 0:
            raise DevenvError(f"tenant {spec.name}: could not create its volumes:\n    "
                              + "\n    ".join((res.stderr or res.stdout).strip().splitlines()[-6:]),
                              f"run `devenv up --tenant {spec.name} --data NAME`")

    def _stop_for_restore(self, spec: TenantSpec, stateful: list[str], dependents_running: list[str]) -> None:
        if dependents_running:
            self.say(f"stopping {', '.join(dependents_running)} (they depend on the data)")
            self.backend.compose(spec.name, "stop", *dependents_running)
        self.say(f"removing the containers of {', '.join(stateful)} (the volumes are replaced)")
        self.backend.compose(spec.name, "rm", "--stop", "--force", *stateful)

    def _replace_volume(self, spec: TenantSpec, v: TenantVolume, snap: store.Snapshot, data_id: str) -> None:
        entry = next(e for e in snap.volumes if e.volume == v.key)
        image = self.helper_image(spec.name, v.components[0], snap.images)
        old = self.engine_volumes(spec.name)[v.name]
        attrs = old.attrs
        dockerclient.engine_call(partial(old.remove), f"remove volume {v.name}")
        dockerclient.engine_call(
            lambda: self.client.volumes.create(name=v.name, driver=attrs.get("Driver") or "local",
                                               driver_opts=attrs.get("Options") or None,
                                               labels={**(attrs.get("Labels") or {}), LABEL_DATA_ID: data_id}),
            f"create volume {v.name}")
        assert snap.path is not None
        t0 = time.perf_counter()
        self.write_volume(spec.name, image, v.name, snap.path / entry.file)
        self.say(f"{v.key}: {human(entry.bytes)} restored in {time.perf_counter() - t0:.1f} s")

    # -- running a command with a file on its stdin (devenv data load) ----------------------------------
    def _running_container(self, tenant: str, component: str) -> Any:
        running = self.backend.containers(tenant, component, all=False)
        if not running:
            raise DevenvError(f"{tenant}/{component} is not running", f"start it: `devenv up --tenant {tenant}`")
        return running[0]

    def service_env(self, tenant: str, component: str, names: Iterable[str]) -> dict[str, str]:
        """``names`` from the running container's environment (absent ones left out)."""
        env = self._running_container(tenant, component).attrs.get("Config", {}).get("Env", [])
        pairs = dict(e.split("=", 1) for e in env if "=" in e)
        return {n: pairs[n] for n in names if n in pairs}

    def exec_stdin(self, tenant: str, component: str, cmd: list[str], env: dict[str, str], src: Path,
                   tick: Callable[[int], None]) -> tuple[int, str]:
        """Run ``cmd`` in the component's container with ``src`` on stdin (the engine's exec API)."""
        from devenv.data.load import exec_with_stdin

        cid = self._running_container(tenant, component).id
        return exec_with_stdin(self.client, cid, cmd, env, src, tick)

    def list(self, tenant: str | None = None) -> list[store.Snapshot]:
        return store.list_snapshots(self.root, tenant)

    def volume_ids(self, tenant: str) -> dict[str, str]:
        """Which data each volume holds: the restore that filled it (a label set when devenv created
        it), else ''. A volume compose recreated since (``down --volumes``) has no such label, so it
        no longer claims the snapshot. (The engine's CreatedAt is no identity: for local volumes it
        is the folder's ctime, which moves.)"""
        return {n: str((v.attrs.get("Labels") or {}).get(LABEL_DATA_ID, ""))
                for n, v in sorted(self.engine_volumes(tenant).items())}

    def current(self, tenant: str) -> str:
        """The snapshot the tenant's data came from ('' for its own or unknown data)."""
        return current_of(store.read_state(self.root, tenant), self.volume_ids(tenant))
