"""The compose backend: each tenant is its own ``docker compose`` project, ``devenv-<tenant>``.

Rendered files are written under ``.devenv/<tenant>/`` (owner-only; users can read and rerun them)
and driven with the real Compose CLI; the Docker SDK serves state, health, logs, file sync and exec.
Every lookup filters on devenv's labels, so nothing devenv did not create is ever touched.
"""

from __future__ import annotations

import contextlib
import io
import math
import threading
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from devenv import dockerclient, layout
from devenv.backends.base import SHELL, Backend, ComponentStatus, Emit, LogSink, SyncFile, iso_epoch
from devenv.containers import rank, state_of, status_rows, worst
from devenv.errors import DevenvError, EngineError
from devenv.events import ComponentState
from devenv.fsutil import atomic_write
from devenv.model.types import LABEL_COMPONENT, LABEL_PROJECT, LABEL_TENANT, Project, TenantSpec
from devenv.netutil import port_free
from devenv.proc import Runner, default_runner

POLL = 0.25


class ComposeBackend(Backend):
    name = "compose"
    waits_apart = True
    cluster_unsupported = "the compose backend has no cluster (each tenant is its own compose project)"

    def __init__(self, project: Project, emit: Emit | None = None, runner: Runner = default_runner,
                 expose: bool = False) -> None:
        super().__init__(project, emit)
        self.runner = runner
        self.expose = expose
        self._client: Any = None
        self._checked = False
        self._lock = threading.Lock()

    # -- plumbing ---------------------------------------------------------------------------
    def check(self) -> None:
        """The engine answers (one ``/_ping``, no SDK client) and a Compose CLI is installed. Its
        ``version`` probe waits for the first compose command: a no-op ``up`` runs none."""
        from devenv import dockerhttp

        if self._checked:  # `up` checks before taking its lock, then the engine again: once is enough
            return
        dockerhttp.ping()
        dockerclient.compose_installed()
        self._checked = True

    @property
    def client(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = dockerclient.client()
            return self._client

    def reconnect(self) -> None:
        with self._lock:
            self._client = None

    def event_client(self) -> Any:
        """A client for the engine's event stream: its own, without a read timeout (a quiet
        project may send nothing for hours; the shared client's timeout would end the stream)."""
        return dockerclient.client(timeout=None)

    def compose_file(self, tenant: str) -> Path:
        layout.ensure(self.project.app.root, tenant)
        return layout.compose_file(self.project.app.root, tenant)

    def write_files(self, spec: TenantSpec, images: dict[str, str]) -> Path:
        """Render the tenant's compose file (and its secrets env file) under ``.devenv/<tenant>/``."""
        return self._write_files(spec, images)[0]

    def _write_files(self, spec: TenantSpec, images: dict[str, str]) -> tuple[Path, dict[str, Any]]:
        """``write_files``, also returning the rendered document."""
        from devenv import secrets
        from devenv.render.compose import load_fragments, render_compose
        from devenv.render.yamldump import dump

        root = self.project.app.root
        values = secrets.local_secret_values(root, spec)
        env_files = secrets.write_env_files(root, spec, values)
        doc = render_compose(self.project, spec, images, secrets_env_file=env_files, expose=self.expose,
                             fragments=load_fragments(root))
        header = (f"# Rendered by devenv for tenant {spec.name}; rerun with:\n"
                  f"#   docker compose -p {spec.project} -f {self.compose_file(spec.name)} up -d\n")
        path, text = self.compose_file(spec.name), header + dump(doc)
        if not _same_text(path, text):  # an unchanged file is not rewritten (an fsync per no-op up)
            atomic_write(path, text)
        return path, doc

    def compose(self, tenant: str, *args: str, check: bool = True, sink: Callable[[str], None] | None = None,
                use_file: bool = True, timeout: float | None = 600) -> Any:
        from devenv.model.resolve import compose_project

        argv = [*dockerclient.compose_argv(), "-p", compose_project(tenant)]
        f = self.compose_file(tenant)
        if use_file and f.exists():
            argv += ["-f", str(f)]
        return self.runner.run([*argv, *args], check=check, sink=sink, cwd=str(self.project.app.root),
                               timeout=timeout)

    def containers(self, tenant: str | None = None, component: str | None = None, all: bool = True) -> list[Any]:
        labels = [f"{LABEL_PROJECT}={self.project.app.name}"]
        if tenant:
            labels.append(f"{LABEL_TENANT}={tenant}")
        if component:
            labels.append(f"{LABEL_COMPONENT}={component}")
        return dockerclient.engine_call(
            lambda: self.client.containers.list(all=all, filters={"label": labels}), "list containers")

    # -- lifecycle --------------------------------------------------------------------------
    def up(self, spec: TenantSpec, images: dict[str, str], wait: bool = True, timeout: float = 300) -> None:
        """Render and ``docker compose up -d``, unless nothing changed since the last ``up``: the
        rendered files hash as recorded then, and the project's containers are the very ones that
        ``up`` left (same ids, compose config-hash labels and image ids), all running. That is
        exactly when compose itself would do nothing; skipping it saves its ~0.5 s of start-up."""
        rows = self._project_rows(spec)
        self._refuse_foreign(spec, rows)
        self._check_ports_free(spec, rows)
        path, doc = self._write_files(spec, images)
        key = self._up_key(path, doc)
        if not self._unchanged(spec, key, rows):
            for name in spec.workloads:
                self.emit(ComponentState(tenant=spec.name, component=name, state="starting",
                                         image=image_of(spec, name, images)))
            res = self.compose(spec.name, "up", "-d", "--remove-orphans", check=False)
            if res.code != 0:
                raise _compose_failure(spec.name, res.stderr or res.stdout)
            self._record_up(spec, key)
        if wait:
            self.wait_healthy(spec, [c for c, w in spec.workloads.items() if w.replicas > 0], timeout)

    def _project_rows(self, spec: TenantSpec) -> list[dict[str, Any]]:
        """Every container of the tenant's compose project, whoever created it: one list call."""
        from devenv import dockerhttp

        return dockerhttp.containers([f"com.docker.compose.project={spec.project}"])

    def _refuse_foreign(self, spec: TenantSpec, rows: list[dict[str, Any]]) -> None:
        """Never take over a compose project that another app (or no devenv at all) created."""
        others = [r for r in rows if (r.get("Labels") or {}).get(LABEL_PROJECT) != self.project.app.name]
        if others:
            owner = (others[0].get("Labels") or {}).get(LABEL_PROJECT) or "something other than devenv"
            name = str((others[0].get("Names") or ["?"])[0]).lstrip("/")
            raise DevenvError(f"the compose project {spec.project} already exists and belongs to {owner} "
                              f"(container {name})",
                              f"stop it first (`docker compose -p {spec.project} down`), or set "
                              "DEVENV_PROJECT_PREFIX to run this checkout beside it")

    def _check_ports_free(self, spec: TenantSpec, rows: list[dict[str, Any]]) -> None:
        """Pre-flight: every host port the tenant publishes must be free (or already published by
        the tenant's own running container), so a held port refuses the whole ``up`` before compose
        starts half of the tenant."""
        own = {int(p["PublicPort"]) for r in rows if r.get("State") == "running"
               for p in r.get("Ports") or [] if p.get("PublicPort")}
        host_ip = "0.0.0.0" if self.expose else "127.0.0.1"
        busy = [(name, p.host) for name, w in spec.workloads.items() for p in w.ports
                if p.host not in own and not port_free(p.host, host_ip)]
        if busy:
            what = ", ".join(f"{port} ({name}){_who_holds(port)}" for name, port in busy)
            raise DevenvError(f"tenant {spec.name}: host port(s) already in use: {what}; nothing was started",
                              "stop what holds it, or give the tenant another range with `port_base` in "
                              "devenv.local.yaml (tenants.<tenant>.port_base)")

    def _up_key(self, path: Path, doc: dict[str, Any]) -> str:
        """What compose would read: the rendered file, every env file it names, devenv's version."""
        import hashlib

        from devenv import __version__

        h = hashlib.sha256(f"{__version__}\0{self.expose}\0".encode())
        h.update(path.read_bytes())
        env_files = sorted({str(f) for svc in (doc.get("services") or {}).values()
                            for f in _as_list(svc.get("env_file"))})
        for f in env_files:
            h.update(f"\0{f}\0".encode())
            try:
                h.update(Path(f).read_bytes())
            except OSError:
                h.update(b"missing")
        return h.hexdigest()

    def _unchanged(self, spec: TenantSpec, key: str, rows: list[dict[str, Any]]) -> bool:
        """True when a ``compose up -d`` of the same files would change nothing (see ``up``)."""
        import json

        from devenv import dockerhttp

        try:
            record = json.loads(_up_record(self.project.app.root, spec.name).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if not rows or record.get("key") != key or record.get("containers") != _config_hashes(rows):
            return False
        if any(r.get("State") != "running" for r in rows):
            return False
        ids: dict[str, str | None] = {}
        for r in rows:  # a rebuilt image under the same tag (build --force) must be recreated
            ref = str(r.get("Image", ""))
            if ref not in ids:
                ids[ref] = (dockerhttp.inspect_image(ref) or {}).get("Id")
            if ids[ref] != r.get("ImageID"):
                return False
        return True

    def _record_up(self, spec: TenantSpec, key: str) -> None:
        """Remember what this ``up`` left running (a record that cannot be written only costs the
        next ``up`` a compose run)."""
        from devenv.fsutil import atomic_write_json

        try:
            atomic_write_json(_up_record(self.project.app.root, spec.name),
                              {"key": key, "containers": _config_hashes(self._project_rows(spec))})
        except (OSError, DevenvError):
            return

    def redeploy(self, spec: TenantSpec, images: dict[str, str], components: list[str], timeout: float = 300) -> None:
        """Recreate only ``components`` (their image changed); nothing else restarts.

        The old containers get ``stop_timeout`` seconds to stop on SIGTERM (see there)."""
        comps = [c for c in components if c in spec.workloads]
        if not comps:
            return
        _, doc = self._write_files(spec, images)
        stop = stop_timeout(doc, comps)
        res = self.compose(spec.name, "up", "-d", "--no-deps", *(["--timeout", str(stop)] if stop is not None else []),
                           *comps, check=False)
        if res.code != 0:
            raise _compose_failure(spec.name, res.stderr or res.stdout)
        self.wait_healthy(spec, comps, timeout)

    def down(self, tenant: str, volumes: bool = False) -> None:
        if not self.containers(tenant) and not self._networks(tenant) and not (volumes and self._volumes(tenant)):
            return
        args = ["down", "--remove-orphans", "--timeout", "5"]
        self.compose(tenant, *args, *(["--volumes"] if volumes else []))
        if volumes:  # volumes compose did not know of (file gone): only ours, only this tenant's
            for v in self._volumes(tenant):
                dockerclient.engine_call(partial(v.remove), f"remove volume {v.name}")

    def _networks(self, tenant: str) -> list[Any]:
        f = {"label": [f"{LABEL_PROJECT}={self.project.app.name}", f"{LABEL_TENANT}={tenant}"]}
        return dockerclient.engine_call(lambda: self.client.networks.list(filters=f), "list networks")

    def _volumes(self, tenant: str) -> list[Any]:
        f = {"label": [f"{LABEL_PROJECT}={self.project.app.name}", f"{LABEL_TENANT}={tenant}"]}
        return dockerclient.engine_call(lambda: self.client.volumes.list(filters=f), "list volumes")

    def running_tenants(self) -> list[str]:
        names = {c.labels.get(LABEL_TENANT) for c in self.containers()}
        return sorted(n for n in names if n)

    def tenants_with_volumes(self) -> list[str]:
        """Tenants whose data volumes outlived their containers (a plain ``down`` keeps them)."""
        from devenv import dockerhttp

        found = dockerhttp.get("/volumes", {"filters": {"label": [f"{LABEL_PROJECT}={self.project.app.name}"]}})
        names = {(v.get("Labels") or {}).get(LABEL_TENANT) for v in (found or {}).get("Volumes") or []}
        return sorted(n for n in names if n)

    # -- health -----------------------------------------------------------------------------
    def wait_healthy(self, spec: TenantSpec, components: list[str], timeout: float = 300) -> None:
        """Poll (one list call for the whole tenant) until every component is healthy (or running,
        without a check); emit each change. Raise with the failing component's last log lines on
        a crash loop, or when nothing progressed for ``timeout`` seconds.

        The deadline is progress-aware: ten tenants starting on a 2-core laptop are slow but sure,
        so ``timeout`` counts from the tenant's last state change; a component whose checks the
        engine has not concluded yet (``health: starting``) is waited for until Docker itself
        decides (its retries), up to three times ``timeout`` in all."""
        started = last_progress = time.monotonic()
        last: dict[str, tuple[str, str]] = {}
        while True:
            states, images = self._tenant_states(spec, components)
            changed = [c for c, st in states.items() if last.get(c) != st]
            for comp in changed:
                last[comp] = states[comp]
                self.emit(ComponentState(tenant=spec.name, component=comp, state=states[comp][0],  # type: ignore[arg-type]
                                         health=states[comp][1], url=self.url(spec, comp) or "",
                                         image=images.get(comp, "")))
            now = time.monotonic()
            if changed:
                last_progress = now
            if all(s[0] in ("healthy", "running") for s in states.values()):
                return
            bad = [c for c, s in states.items() if s[0] == "crashed"]
            concluding = all(s[0] in ("healthy", "running", "starting") for s in states.values())
            stalled = now - last_progress > timeout and not (concluding and now - started < 3 * timeout)
            if bad or stalled:
                self._unhealthy(spec, states, bad, timeout)
            time.sleep(POLL)

    def _unhealthy(self, spec: TenantSpec, states: dict[str, tuple[str, str]], bad: list[str], timeout: float) -> None:
        comp = bad[0] if bad else next(c for c, s in states.items() if s[0] not in ("healthy", "running"))
        why = "keeps crashing" if bad else f"is not healthy after {timeout:.0f} s without progress ({states[comp][0]})"
        raise DevenvError(f"{spec.name}/{comp} {why}; its last log lines:\n    "
                          + "\n    ".join(self.tail(spec.name, comp, 15) or ["(no output)"]),
                          f"see `devenv logs --tenant {spec.name} {comp}`; fix and run `devenv up` again")

    def _tenant_states(self, spec: TenantSpec, components: list[str]) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
        """Each component's worst container state, and its image, from one list call."""
        by_comp: dict[str, list[dict[str, Any]]] = {}
        for row in self.summaries(spec.name):
            by_comp.setdefault((row.get("Labels") or {}).get(LABEL_COMPONENT, ""), []).append(row)
        states: dict[str, tuple[str, str]] = {}
        for comp in components:
            rows = by_comp.get(comp, [])
            states[comp] = worst(rows) if rows else ("pending", "")
        return states, {c: str(rs[0].get("Image", "")) for c, rs in by_comp.items() if rs}

    def running_image(self, tenant: str, component: str) -> str:
        """The image reference the component's container runs ("" when it has none)."""
        cs = self.containers(tenant, component)
        return cs[0].attrs.get("Config", {}).get("Image", "") if cs else ""

    def tail(self, tenant: str, component: str, n: int = 20) -> list[str]:
        out: list[str] = []
        for c in self.containers(tenant, component):
            raw = dockerclient.engine_call(partial(c.logs, tail=n), "read logs")
            out += raw.decode("utf-8", "replace").splitlines()
        return out[-n:]

    def url(self, spec: TenantSpec, component: str) -> str | None:
        return local_url(spec, component)

    # -- inspection ---------------------------------------------------------------------------
    def status(self, tenants: list[str] | None = None) -> list[ComponentStatus]:
        """One list call for the whole project (the engine's summaries, no per-container inspect,
        no SDK client): ``devenv status`` costs what ``docker ps`` costs plus Python's start."""
        specs: dict[str, TenantSpec | None] = {}
        return [ComponentStatus(**r) for r in
                status_rows(self.summaries(), tenants, lambda t, c: self._url_for(specs, t, c))]

    def summaries(self, tenant: str | None = None) -> list[dict[str, Any]]:
        """The project's (or one tenant's) containers as the engine lists them, in one call."""
        from devenv import dockerhttp

        labels = [f"{LABEL_PROJECT}={self.project.app.name}"] + ([f"{LABEL_TENANT}={tenant}"] if tenant else [])
        rows = dockerhttp.containers(labels)
        for r in rows:  # a restart loop's count is not in the summary: inspect only those
            if r.get("State") == "restarting":
                info = dockerhttp.get(f"/containers/{r['Id']}/json") or {}
                r["RestartCount"] = info.get("RestartCount", 0)
        return rows

    def _url_for(self, specs: dict[str, TenantSpec | None], tenant: str, comp: str) -> str:
        from devenv.model.resolve import resolve

        if tenant not in specs:
            specs[tenant] = resolve(self.project, tenant, "local") if tenant in self.project.profiles else None
        spec = specs[tenant]
        return (self.url(spec, comp) or "") if spec is not None else ""

    def logs(self, tenant: str, components: list[str], follow: bool, tail: int,
             sink: Callable[[str, str], None]) -> None:
        cs = [c for c in self.containers(tenant) if not components or c.labels.get(LABEL_COMPONENT) in components]
        if not follow:
            lines: list[tuple[str, str, str]] = []
            for c in cs:
                raw = c.logs(tail=tail, timestamps=True).decode("utf-8", "replace")
                comp = c.labels.get(LABEL_COMPONENT, "?")
                for ln in raw.splitlines():
                    ts, _, text = ln.partition(" ")
                    lines.append((ts, comp, text))
            for _ts, comp, text in sorted(lines):
                sink(comp, text)
            return
        threads = [threading.Thread(target=_follow, args=(c, tail, sink), daemon=True) for c in cs]
        for t in threads:
            t.start()
        for t in threads:
            while t.is_alive():
                t.join(0.5)

    # -- actions ------------------------------------------------------------------------------
    def restart(self, tenant: str, component: str) -> None:
        cs = self.containers(tenant, component)
        if not cs:
            raise DevenvError(f"{tenant}/{component} has no container", f"run `devenv up --tenant {tenant}` first")
        for c in cs:
            dockerclient.engine_call(partial(c.restart, timeout=5), f"restart {tenant}/{component}")

    def sync(self, tenant: str, component: str, files: list[SyncFile]) -> int:
        """Put changed files into every running container of the component, and delete removed
        ones: straight into its root filesystem where this host has it (``rootfs.py``), else
        through the engine's archive API (one tar per container)."""
        from devenv.backends import rootfs

        ids = self._running_ids(tenant, component)
        pairs = [(f.src, f.dest) for f in files]
        for cid in ids:
            left = pairs
            if rootfs.enabled():
                attrs = dockerclient.engine_call(partial(self.client.api.inspect_container, cid), "inspect")
                root = rootfs.merged_dir(attrs)
                if root is not None:
                    left = rootfs.write_files(root, pairs)
            if left:
                self._sync_archive(cid, [SyncFile(s, d) for s, d in left])
        return len(ids)

    def _running_ids(self, tenant: str, component: str) -> list[str]:
        """One cheap list call (no per-container inspect, unlike the SDK's ``containers.list``)."""
        labels = [f"{LABEL_PROJECT}={self.project.app.name}", f"{LABEL_TENANT}={tenant}",
                  f"{LABEL_COMPONENT}={component}"]
        rows = dockerclient.engine_call(lambda: self.client.api.containers(filters={"label": labels}),
                                        "list containers")
        return [r["Id"] for r in rows]

    def _sync_archive(self, cid: str, files: list[SyncFile]) -> None:
        payload = _tar(files)
        if payload is not None:
            ok = dockerclient.engine_call(lambda: self.client.api.put_archive(cid, "/", payload),
                                          "copy files into a container")
            if not ok:
                raise EngineError(f"the engine refused the copy into {cid[:12]}", "")
        deletes = [f.dest for f in files if f.src is None]
        if deletes:
            ex = dockerclient.engine_call(lambda: self.client.api.exec_create(cid, ["rm", "-rf", "--", *deletes]),
                                          "delete files")
            dockerclient.engine_call(lambda: self.client.api.exec_start(ex["Id"]), "delete files")

    def exec(self, tenant: str, component: str, argv: list[str]) -> tuple[int, str]:
        cs = self.containers(tenant, component, all=False)
        if not cs:
            raise DevenvError(f"{tenant}/{component} is not running", f"run `devenv up --tenant {tenant}`")
        res = dockerclient.engine_call(lambda: cs[0].exec_run(argv), f"exec in {tenant}/{component}")
        return res.exit_code, res.output.decode("utf-8", "replace")

    def container_for(self, tenant: str, component: str) -> str | None:
        cs = self.containers(tenant, component, all=False)
        return cs[0].name if cs else None

    def shell_argv(self, tenant: str, component: str) -> list[str]:
        name = self.container_for(tenant, component)
        if not name:
            raise DevenvError(f"{tenant}/{component} is not running", f"run `devenv up --tenant {tenant}`")
        return ["docker", "exec", "-it", name, "sh", "-c", SHELL]

    def monitor(self, tenants: list[str], log_sink: LogSink) -> Monitor:
        return Monitor(self, tenants, log_sink)

    def image_created(self, tenant: str, component: str) -> float | None:
        """When the image of the running container was built (for the initial sync)."""
        cs = self.containers(tenant, component, all=False)
        return iso_epoch(cs[0].image.attrs.get("Created", "")) if cs else None


REDEPLOY_STOP_TIMEOUT = 2  # seconds a replaced container gets to stop on SIGTERM, unless it says otherwise


def stop_timeout(doc: dict[str, Any], components: list[str]) -> int | None:
    """The ``--timeout`` (whole seconds) for the containers a redeploy replaces: each component's
    own ``stop_grace_period`` (a compose fragment's, e.g. Postgres's 5 s) or else
    ``REDEPLOY_STOP_TIMEOUT``; the longest of them, since compose takes one value per command.
    ``None`` (compose's own rules) when a grace period cannot be read.

    Why not compose's 10 s default: a process that ignores SIGTERM (a shell or a server without a
    handler as PID 1) would hold every rebuild 10 s on its way out; its replacement is already
    built, and it is a dev container. Why not 0 (SIGKILL at once): it would save the graceful
    stop, ~150 ms per redeploy of this sample's web (measured: stop requested -> old container
    gone 244 -> 92 ms, median of 24), but a component that finishes its work on SIGTERM (the
    sample's worker completes the job it took; a database flushes) would lose that work on every
    save. A component that has nothing to finish may choose 0 with ``stop_grace_period: 0s`` in
    its fragment (``compose/<component>.yaml``)."""
    longest = 0.0
    for comp in components:
        grace = ((doc.get("services") or {}).get(comp) or {}).get("stop_grace_period")
        seconds = REDEPLOY_STOP_TIMEOUT if grace is None else _duration_seconds(grace)
        if seconds is None:
            return None
        longest = max(longest, seconds)
    return math.ceil(longest)


def _duration_seconds(value: Any) -> float | None:
    """A compose duration (``5s``, ``1m30s``, ``500ms``, a bare number of seconds) in seconds."""
    import re

    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value) if value >= 0 else None
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 1e-3, "us": 1e-6, "µs": 1e-6, "ns": 1e-9}
    text = str(value).strip()
    parts = re.findall(r"(\d+(?:\.\d*)?|\.\d+)(h|ms|m|s|us|µs|ns)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    return sum(float(n) * units[u] for n, u in parts)


def image_of(spec: TenantSpec, component: str, images: dict[str, str]) -> str:
    """The image reference a component runs: its built tag, or its pinned/external reference."""
    w = spec.workloads[component]
    return images.get(w.build_image, "") if w.build_image else (w.image_ref or "")


def local_url(spec: TenantSpec, component: str) -> str | None:
    """Where a component answers on the laptop: its first HTTP port, published on 127.0.0.1."""
    w = spec.workloads.get(component)
    for p in w.ports if w else ():
        if p.http:
            return f"http://127.0.0.1:{p.host}/"
    return None


def _container_state(c: Any) -> tuple[str, str]:
    """(state, health) of one container in the engine's words mapped to ours."""
    return state_of(c.attrs.get("State", {}), c.attrs.get("RestartCount", 0))


def _same_text(path: Path, text: str) -> bool:
    try:
        return path.is_file() and not path.is_symlink() and path.read_text(encoding="utf-8") == text
    except (OSError, ValueError):
        return False


def _up_record(root: Path, tenant: str) -> Path:
    return layout.tenant_dir(root, tenant) / "up.json"


def _config_hashes(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Container id -> compose's config-hash label: what compose compares to decide a recreate."""
    return {str(r.get("Id")): str((r.get("Labels") or {}).get("com.docker.compose.config-hash", "")) for r in rows}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _follow(c: Any, tail: int | str, sink: Callable[[str, str], None], since: int | None = None) -> None:
    comp = c.labels.get(LABEL_COMPONENT, "?")
    buf = b""
    try:
        for chunk in c.logs(stream=True, follow=True, tail=tail, **({"since": since} if since else {})):
            buf += chunk
            *lines, buf = buf.split(b"\n")
            for ln in lines:
                sink(comp, ln.decode("utf-8", "replace"))
    except Exception:  # the container went away or the engine restarted: the follower just ends
        return


def _tar(files: list[SyncFile]) -> bytes | None:
    present = [f for f in files if f.src is not None]
    if not present:
        return None
    import tarfile

    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w") as tar:
        for f in present:
            assert f.src is not None
            try:
                tar.add(str(f.src), arcname=f.dest.lstrip("/"), recursive=False)
            except FileNotFoundError:  # deleted between the event and the copy: the next batch says so
                continue
    return bio.getvalue()


def _compose_failure(tenant: str, output: str) -> DevenvError:
    """Turn compose's error output into one actionable message (ports in use get their own)."""
    import re

    lines = [ln for ln in output.strip().splitlines() if ln.strip()][-8:]
    m = re.search(r"(?:Bind for |bind: |listen tcp4? )?(?:127\.0\.0\.1|0\.0\.0\.0)?:(\d+).*(?:already allocated|address already in use)", output)
    if m:
        port = int(m.group(1))
        return DevenvError(f"tenant {tenant}: host port {port} is already in use{_who_holds(port)}",
                           "stop what holds it, or give the tenant another range with `port_base` in devenv.local.yaml")
    return DevenvError(f"`docker compose up` failed for tenant {tenant}:\n    " + "\n    ".join(lines),
                       f"read the rendered file .devenv/{tenant}/compose.yaml; `devenv validate` checks the config")


def _who_holds(port: int) -> str:
    """Best effort: the process listening on ``port`` (via /proc), or ''."""
    try:
        from devenv.netutil import holder_of_port

        who = holder_of_port(port)
    except Exception:
        who = None
    return f" (held by {who})" if who else ""


WATCHED_ACTIONS = ("start", "die", "stop", "restart", "kill", "oom", "destroy", "pause", "unpause")


class Monitor:
    """One thread per engine following the engine's own event stream (``docker events`` filtered by
    the project's label): a container's ``start``, ``die`` or ``health_status`` re-reads that one
    component (one list call) and emits its state change at once (crashes and restarts included),
    and a container that starts gets its logs followed. An idle session costs nothing: no call is
    made until the engine reports something. The health checks' ``exec_*`` events are dropped
    without a call.

    When the stream drops (the engine went away or restarted), the monitor says so once and falls
    back to a slow poll: every ``interval`` it tries a full read of the project's containers, and
    once that works it catches up (states, new containers) and returns to the stream."""

    def __init__(self, backend: ComposeBackend, tenants: list[str], log_sink: Callable[[str, str, str], None],
                 interval: float = 1.0) -> None:
        self.backend = backend
        self.tenants = set(tenants)
        self.log_sink = log_sink
        self.interval = interval
        self.stop_event = threading.Event()
        self._followed: set[str] = set()
        self._states: dict[tuple[str, str], tuple[str, str]] = {}
        self._restarts: dict[tuple[str, str], int] = {}
        self._engine_ok = True
        self._ticks = 0
        self._stream: Any = None
        self._ended: dict[str, int] = {}  # container -> when its log follower ended
        self._stopping: set[str] = set()  # containers asked to stop (SIGTERM): their exit is no crash
        self.calls = 0  # engine calls made, for tests of the idle cost
        self._thread = threading.Thread(target=self._run, name="devenv-monitor", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        stream = self._stream
        if stream is not None:
            with contextlib.suppress(Exception):  # already closed by the engine: nothing to release
                stream.close()

    def _run(self) -> None:
        while not self.stop_event.is_set():
            try:
                since = time.time()
                self._tick()
                self._back()
                self._follow_events(since)
            except Exception as exc:  # engine down or restarting: report once, keep trying
                if not self.stop_event.is_set():
                    self._lost(exc)
            self.stop_event.wait(self.interval)

    def _back(self) -> None:
        from devenv.events import EngineHealth, Timeline

        if not self._engine_ok:
            self._engine_ok = True
            self.backend.emit(EngineHealth(ok=True, detail="reconnected"))
            self.backend.emit(Timeline(kind="info", message="Docker engine is back; reconnected"))

    def _lost(self, exc: BaseException) -> None:
        from devenv.events import EngineHealth, Timeline

        self.backend.reconnect()
        if self._engine_ok:
            self._engine_ok = False
            self.backend.emit(EngineHealth(ok=False, detail=f"engine not answering ({type(exc).__name__})"))
            self.backend.emit(Timeline(kind="warn", message="Docker engine stopped answering; retrying every second"))

    def _follow_events(self, since: float) -> None:
        """Block on the event stream until it ends (engine gone) or ``stop``. ``since`` replays
        what happened while the full read ran, so nothing falls between the two."""
        label = f"{LABEL_PROJECT}={self.backend.project.app.name}"
        self.calls += 1
        self._stream = self.backend.event_client().events(decode=True, since=int(since),
                                                          filters={"type": "container", "label": [label]})
        for ev in self._stream:
            if self.stop_event.is_set():
                return
            self._on_event(ev)
        if not self.stop_event.is_set():
            raise EngineError("the engine's event stream ended", "")

    def _on_event(self, ev: dict[str, Any]) -> None:
        action = str(ev.get("Action") or ev.get("status") or "")
        if action not in WATCHED_ACTIONS and not action.startswith("health_status"):
            return
        attrs = (ev.get("Actor") or {}).get("Attributes") or {}
        if action == "kill" and str(attrs.get("signal")) in ("15", "SIGTERM"):
            self._stopping.add(str((ev.get("Actor") or {}).get("ID") or ev.get("id") or ""))
        key = (attrs.get(LABEL_TENANT, ""), attrs.get(LABEL_COMPONENT, ""))
        if key[0] in self.tenants and key[1]:
            self._refresh(key)

    def _refresh(self, key: tuple[str, str]) -> None:
        self.calls += 1
        cs = self.backend.containers(*key)
        for c in cs:
            self._maybe_follow(key[0], c)
        if cs:
            self._update(key, cs)

    def _tick(self) -> None:
        """A full read: every component's state, and logs of containers not followed yet."""
        by_key: dict[tuple[str, str], list[Any]] = {}
        self.calls += 1
        for c in self.backend.client.containers.list(
                all=True, filters={"label": [f"{LABEL_PROJECT}={self.backend.project.app.name}"]}):
            t, comp = c.labels.get(LABEL_TENANT, ""), c.labels.get(LABEL_COMPONENT, "")
            if t in self.tenants:
                by_key.setdefault((t, comp), []).append(c)
                self._maybe_follow(t, c)
        for key, cs in by_key.items():
            self._update(key, cs)
        self._ticks += 1

    def _update(self, key: tuple[str, str], cs: list[Any]) -> None:
        self._note_restarts(key, cs)
        st = min((self._state_of(c) for c in cs), key=lambda s: rank(s[0]))
        if self._states.get(key) != st:
            old = self._states.get(key)
            self._states[key] = st
            if old is not None or self._ticks > 0:  # the very first read was reported by up()
                self.backend.emit(ComponentState(tenant=key[0], component=key[1], state=st[0],  # type: ignore[arg-type]
                                                 health=st[1]))

    def _state_of(self, c: Any) -> tuple[str, str]:
        """A container stopped on request (``down``, a redeploy replacing it) exits with whatever
        its process returns on SIGTERM; that is "stopped", not a crash."""
        st = _container_state(c)
        return ("stopped", st[1]) if st[0] == "crashed" and c.id in self._stopping else st

    def _note_restarts(self, key: tuple[str, str], cs: list[Any]) -> None:
        """A crash that the restart policy heals between two polls never shows as a state; the
        engine's restart count does. Report it as a crash, then (next) the state it came back in."""
        count = sum(int(c.attrs.get("RestartCount", 0) or 0) for c in cs)
        before = self._restarts.get(key)
        self._restarts[key] = count
        if before is None or count <= before or self._states.get(key, ("",))[0] == "crashed":
            return
        self._states[key] = ("crashed", "")
        self.backend.emit(ComponentState(tenant=key[0], component=key[1], state="crashed",
                                         detail=f"exited and was restarted by its restart policy "
                                                f"({count} restart(s) so far)"))

    def _maybe_follow(self, tenant: str, c: Any) -> None:
        """Follow a running container's logs once: new containers from their first line; one
        whose follower ended (the engine restarted) from where it stopped."""
        if c.id in self._followed or c.status != "running":
            return
        tail: int | str = 30 if self._ticks == 0 else "all"  # new containers: everything they said
        since = self._ended.pop(c.id, None)
        self._followed.add(c.id)
        sink = self.log_sink

        def run() -> None:
            _follow(c, tail, lambda comp, line: sink(tenant, comp, line), since)
            self._followed.discard(c.id)
            self._ended[c.id] = int(time.time())

        threading.Thread(target=run, name=f"devenv-logs-{c.name}", daemon=True).start()
