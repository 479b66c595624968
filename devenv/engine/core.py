"""The engine: builds, brings tenants up, follows them, and runs the inner loop.

One asyncio loop owns the state. Blocking work (builds, compose, SDK calls) runs in threads via
``asyncio.to_thread``; whatever a thread reports comes back through ``emit``, which hops onto the
loop with ``call_soon_threadsafe``. Watch batches are applied one at a time, in order, so a save
that lands during a rebuild is acted on right after it, never lost and never applied twice.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from devenv import dockerclient
from devenv.backends.base import Backend, ComponentStatus, Monitor, SyncFile
from devenv.engine import eventlog
from devenv.engine.state import SpecsKnown, State, observed, reduce
from devenv.errors import BuildError, DevenvError
from devenv.events import (
    ComponentState,
    EngineHealth,
    Event,
    ImagesKnown,
    LogLine,
    PendingChanges,
    TenantState,
    Timeline,
    WatchStatus,
)
from devenv.model.resolve import resolve
from devenv.model.types import Project, TenantSpec

if TYPE_CHECKING:
    from devenv.watch.mapping import ChangePlan

Subscriber = Callable[[Event], None]
BuilderFactory = Callable[[Project, Callable[[Event], None]], Any]
NEVER_STARTED = "never started"
LOG_FLUSH = 0.05  # seconds: log lines reach subscribers in batches, not one call per line
# seconds a live update's background build waits after restarting a container: on a 2-core laptop the
# build (tar, hashes, the engine's image load) would otherwise take the CPU the restarted app starts with
BEHIND_AFTER_RESTART = 1.5


def default_builder(project: Project, emit: Callable[[Event], None], client: Any = None) -> Any:
    from devenv.build.builder import Builder

    return Builder(project, emit=emit, client=client)


class Engine:
    """See ``devenv.engine.api.EngineAPI`` for the contract the CLI and the TUI rely on."""

    def __init__(self, project: Project, tenants: list[str], backend: Backend,
                 builder_factory: BuilderFactory = default_builder, watch: bool = True,
                 specs: dict[str, TenantSpec] | None = None, timeout: float = 300, follow: bool = True) -> None:
        self.project = project
        self.follow = follow  # False (``up --detach``): no monitor; the health wait reports the states
        self.tenants = list(tenants)
        self.backend = backend
        self.builder_factory = builder_factory
        self.watch_enabled = watch
        self.timeout = timeout
        self.lock: Callable[[], AbstractContextManager[Any]] | None = None  # set by the session
        self.state = State(app=project.app.name, backend=backend.name,
                           timeline=eventlog.history(project.app.root))  # the recent past, from the log
        self._subs: list[Subscriber] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._logbuf: list[LogLine] = []
        self._loglock = threading.Lock()
        self._tasks: list[asyncio.Task[Any]] = []
        self._batches: asyncio.Queue[dict[Path, str]] | None = None
        self._watcher: Any = None
        self._monitor: Monitor | None = None
        self._masker: Any = None
        self._cancel_build = threading.Event()
        self._ignore: Any = None
        self._build_client: Any = None  # one Docker client for every build of this engine
        self._build_client_lock = threading.Lock()
        self._build_lock: asyncio.Lock | None = None  # one build at a time (live updates build behind)
        self._tails: Any = None  # Dockerfile tails for inferred live updates (engine.live)
        backend.emit = self.emit
        self._know_specs(specs or {t: resolve(project, t, "local") for t in tenants})

    @property
    def images(self) -> dict[str, str]:
        """image -> the ref it runs as now: read from the reducer's state, as every frontend does."""
        return dict(self.state.images)

    def _know_images(self, refs: dict[str, str]) -> None:
        self.emit(ImagesKnown(images=tuple(sorted(refs.items()))))

    @property
    def specs(self) -> dict[str, TenantSpec]:
        """tenant -> its resolved spec, from the reducer's state (a copy: the store changes only
        through events)."""
        return dict(self.state.specs)

    def _know_specs(self, specs: dict[str, TenantSpec]) -> None:
        self.emit(SpecsKnown(specs=tuple(specs.items())))

    # -- saves held for a tenant that is starting (the state's ``pending``) ----------------------
    def _hold(self, tenant: str) -> None:
        """From now until ``_release``, saves wait for ``tenant`` (it builds, starts, waits)."""
        if tenant not in self.state.pending:
            self.emit(PendingChanges(tenant=tenant))

    def _release(self, tenant: str) -> dict[Path, Any] | None:
        """The saves ``tenant`` held (None when it held none), and it holds no more."""
        held = self.state.pending.get(tenant)
        if held is None:
            return None
        self.emit(PendingChanges(tenant=tenant, held=False))
        return {self.project.app.root / path: kind for path, kind in held}

    def _hold_changes(self, changes: dict[Path, Any]) -> None:
        """A batch of saves joins what every starting tenant holds."""
        for tenant, held in self.state.pending.items():
            merged = {**dict(held), **{self._relpath(str(p)): str(k) for p, k in changes.items()}}
            self.emit(PendingChanges(tenant=tenant, changes=tuple(sorted(merged.items()))))

    # -- events -----------------------------------------------------------------------------
    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        self._subs.append(fn)
        return lambda: self._subs.remove(fn) if fn in self._subs else None

    def emit(self, ev: Event) -> None:
        """Thread-safe: events from worker threads hop onto the loop."""
        loop = self._loop
        if loop is None or _on_loop(loop):
            self._dispatch(ev)
        elif not loop.is_closed():
            loop.call_soon_threadsafe(self._dispatch, ev)

    def _dispatch(self, ev: Event) -> None:
        self.state = reduce(self.state, ev)
        for fn in list(self._subs):
            try:
                fn(ev)
            except Exception as exc:  # a broken subscriber must not stop the engine
                if not isinstance(ev, Timeline):
                    self._dispatch(Timeline(kind="warn", message=f"a subscriber failed: {exc!r}"))

    def _mask(self, text: str) -> str:
        return self._masker.mask(text) if self._masker else text

    def _log_sink(self, tenant: str, component: str, line: str) -> None:
        masked = self._masker.mask(line) if self._masker else line
        with self._loglock:
            self._logbuf.append(LogLine(tenant=tenant, component=component, line=masked))

    async def _flush_logs(self) -> None:
        while True:
            await asyncio.sleep(LOG_FLUSH)
            with self._loglock:
                batch, self._logbuf = self._logbuf, []
            for ev in batch:
                self._dispatch(ev)

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self, up: bool = True) -> None:
        """Check the backend, start watching, build, bring every tenant up, then follow.

        The observer starts before the first build: a save made while images build, containers
        start or health checks wait is queued for the tenant and applied once it is up (see
        ``_catch_up``), never lost."""
        self._loop = asyncio.get_running_loop()
        self._ensure_executor()
        self._tasks.append(asyncio.create_task(self._flush_logs()))
        self.subscribe(eventlog.EventLog(self.project.app.root, mask=self._mask))
        try:
            await asyncio.to_thread(self.backend.check)
        except DevenvError as exc:
            self.emit(EngineHealth(ok=False, detail=exc.message))
            raise
        self._masker = _masker(self.project, list(self.specs.values()))  # after the check: no engine, no secret written
        self.emit(EngineHealth(ok=True))
        release = await self._hold_lock()
        try:
            await self._start_tenants(up)
        finally:
            release()

    async def _hold_lock(self) -> Callable[[], None]:
        """Take the session's project lock (``devenv.engine.session``) while building and deploying;
        waiting for another holder happens in a thread, so a frontend's loop stays live."""
        if self.lock is None:
            return lambda: None
        held = self.lock()
        await asyncio.to_thread(held.__enter__)

        def release() -> None:
            held.__exit__(None, None, None)
        return release

    async def _start_tenants(self, up: bool) -> None:
        await self._announce_tenants()
        if up:
            for t in self.tenants:
                self._hold(t)
        if self.watch_enabled:
            await self.start_watching()
        self._start_monitor()  # before the first container starts: its state and logs from its start
        if up:
            await self.up(self.tenants)
        else:
            self._know_images(await asyncio.to_thread(_current_tags, self.project))
        if self.watch_enabled and not up:
            await self.initial_sync()

    async def _announce_tenants(self) -> None:
        """Every tenant of the project enters the state: running, stopped, or never started
        (so a frontend can offer to start any of them)."""
        rows, kept = await asyncio.to_thread(_presence, self.backend)
        seen: dict[str, list[Any]] = {}
        for row in rows:
            seen.setdefault(row.tenant, []).append(row)
        for t in dict.fromkeys([*self.tenants, *self.project.profiles]):
            comps = seen.get(t, [])
            running = any(r.state in ("running", "healthy", "starting", "unhealthy") for r in comps)
            detail = "" if comps else ("data kept" if t in kept else NEVER_STARTED)
            order = list(self.specs[t].workloads) if t in self.specs else []
            for ev in observed(sorted(comps, key=lambda r: (order.index(r.component) if r.component in order else 99))):
                self.emit(ev)
            self.emit(TenantState(tenant=t, state="up" if running else "stopped", detail=detail))

    def _ensure_executor(self) -> None:
        """Blocking work runs in the loop's default thread pool, and a redeploy holds a thread until
        its tenant is healthy (seconds). asyncio's default pool has CPUs + 4 threads (6 on a 2-core
        laptop), so a few tenants redeploying at once would queue every sync behind them; the
        engine's pool is sized for its tenants instead."""
        assert self._loop is not None
        workers = 32 + 4 * len(self.specs)
        self._loop.set_default_executor(ThreadPoolExecutor(max_workers=workers, thread_name_prefix="devenv-engine"))

    async def stop(self, leave_running: bool = True) -> None:
        self._cancel_build.set()
        if self._watcher is not None:
            await asyncio.to_thread(self._watcher.stop)
            self._watcher = None
            self.emit(WatchStatus(watching=False))
        if self._monitor is not None:
            self._monitor.stop()
            self._monitor = None
        if not leave_running:
            for t in self.tenants:
                await self.down(t)
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()

    async def up(self, tenants: list[str]) -> None:
        """Build what the tenants need, then start them side by side, waiting for health.

        Any tenant of the project may be named (the TUI starts ones the session did not); it joins
        the session. Saves made until a tenant is up wait for it (the state's ``pending``)."""
        for t in tenants:
            if t not in self.state.specs:
                self._know_specs({t: resolve(self.project, t, "local")})
                self._masker = _masker(self.project, list(self.specs.values()))
            if t not in self.tenants:
                self.tenants.append(t)
            self._hold(t)
            if self._monitor is not None:  # its containers' states and logs from their first moment
                self._monitor.tenants.add(t)
            self.emit(TenantState(tenant=t, state="building"))
        t0 = time.perf_counter()
        try:
            await self._build_for(tenants)
        except BuildError as exc:
            for t in tenants:
                self._release(t)
            self._fail(f"build of {exc.image} failed: {exc.message.splitlines()[0]}", exc.log_tail, tenants,
                       component=exc.image)
            raise
        for t in tenants:
            self.emit(TenantState(tenant=t, state="starting"))
        results = await asyncio.gather(*(self._up_one(t) for t in tenants), return_exceptions=True)
        errors = [r for r in results if isinstance(r, BaseException)]
        if errors:
            raise errors[0]
        self.emit(Timeline(kind="up", message="up and healthy", tenants=tuple(tenants),
                           cost_ms=(time.perf_counter() - t0) * 1000))

    async def _up_one(self, tenant: str) -> None:
        spec = self.specs[tenant]
        try:
            await self._start_and_wait(spec)
        except DevenvError as exc:
            self.emit(TenantState(tenant=tenant, state="degraded", detail=exc.message.splitlines()[0]))
            self._fail(exc.message.splitlines()[0], tuple(exc.message.splitlines()[1:]), [tenant])
            await self._settle(tenant)  # what does run still gets the saves made meanwhile
            raise
        except BaseException:
            self._release(tenant)
            raise
        if self._monitor is not None:
            self._monitor.tenants.add(tenant)
        urls = [u for c in spec.workloads if (u := self.url(tenant, c))]
        self.emit(TenantState(tenant=tenant, state="up", detail=" ".join(urls)))
        self._hold(tenant)  # once healthy: compare with the files once more
        await self._settle(tenant)

    async def _start_and_wait(self, spec: TenantSpec) -> None:
        """Start the tenant, then wait for health. Where the backend can wait on its own, the
        saves queued so far are applied as soon as the containers run on their final images,
        and later saves go straight in: an edit made once the page answers is live at once,
        not after the slowest component's health check."""
        if not self.backend.waits_apart:
            await asyncio.to_thread(self.backend.up, spec, self.images, True, self.timeout)
            return
        await asyncio.to_thread(self.backend.up, spec, self.images, False, self.timeout)
        await self._settle(spec.name)
        running = [c for c, w in spec.workloads.items() if w.replicas > 0]  # as up() itself waits
        await asyncio.to_thread(self.backend.wait_healthy, spec, running, self.timeout)

    async def _settle(self, tenant: str) -> None:
        try:
            await self._catch_up(tenant)
        except Exception as exc:  # the tenant runs; the next save retries
            self._release(tenant)
            self._fail(f"applying the changes saved while {tenant} started failed: {exc}", (), [tenant])

    async def down(self, tenant: str, volumes: bool = False) -> None:
        self.emit(TenantState(tenant=tenant, state="stopping"))
        await asyncio.to_thread(self.backend.down, tenant, volumes)
        for comp in self.specs[tenant].workloads if tenant in self.specs else ():
            self.emit(ComponentState(tenant=tenant, component=comp, state="stopped"))
        self.emit(TenantState(tenant=tenant, state="stopped"))
        self.emit(Timeline(kind="down", message="down" + (" (volumes removed)" if volumes else " (data kept)"),
                           tenants=(tenant,)))

    async def rebuild(self, component: str | None = None) -> None:
        images = {w.build_image for s in self.specs.values() for n, w in s.workloads.items()
                  if w.build_image and (component is None or n == component)}
        if not images:
            self.emit(Timeline(kind="warn", message=f"nothing to rebuild for {component or 'any component'}"))
            return
        from devenv.watch.mapping import plan_rebuild

        plan = plan_rebuild(self.project.app, list(self.specs.values()), {i: "asked for" for i in images})
        await self._rebuild_and_redeploy(plan, force=True)

    async def restart(self, tenant: str, component: str) -> None:
        t0 = time.perf_counter()
        await asyncio.to_thread(self.backend.restart, tenant, component)
        self.emit(Timeline(kind="restart", message="restarted", component=component,
                           tenants=(tenant,), cost_ms=(time.perf_counter() - t0) * 1000))

    # -- tenant data (issue 14) ------------------------------------------------------------------
    #: The backend's data driver (``devenv.data``), injected by the command that builds the engine;
    #: None when the backend has none. The engine never imports it (it sits above the engine).
    data: Any = None

    async def snapshot(self, tenant: str, name: str | None = None) -> str:
        """Snapshot the tenant's volumes (``devenv data snapshot``); return the snapshot's name."""
        driver = self._data_driver()
        t0 = time.perf_counter()
        snap = await asyncio.to_thread(driver.snapshot, tenant, name)
        self.emit(Timeline(kind="info", message=f"snapshot {snap.name} taken ({len(snap.volumes)} volume(s))",
                           tenants=(tenant,), cost_ms=(time.perf_counter() - t0) * 1000))
        return str(snap.name)

    async def restore(self, tenant: str, name: str) -> None:
        """Replace the tenant's data with a snapshot (``devenv data restore``; the caller asked)."""
        driver = self._data_driver()
        t0 = time.perf_counter()
        await asyncio.to_thread(driver.restore, tenant, name)
        self.emit(Timeline(kind="info", message=f"restored snapshot {name}", tenants=(tenant,),
                           cost_ms=(time.perf_counter() - t0) * 1000))

    def data_label(self, tenant: str) -> str:
        """The snapshot the tenant's data came from ("" for its own data, or without a driver)."""
        try:
            return str(self.data.current(tenant)) if self.data is not None else ""
        except DevenvError:
            return ""

    def snapshots(self, tenant: str) -> list[str]:
        """The tenant's snapshot names, oldest first."""
        return [s.name for s in self.data.list(tenant)] if self.data is not None else []

    def _data_driver(self) -> Any:
        if self.data is None:
            raise DevenvError(self.backend.data_unsupported or "tenant data is not available in this session",
                              "use `devenv data` on the compose backend")
        return self.data

    def shell_argv(self, tenant: str, component: str) -> list[str]:
        return self.backend.shell_argv(tenant, component)

    def url(self, tenant: str, component: str) -> str | None:
        spec = self.specs.get(tenant)
        w = spec.workloads.get(component) if spec else None
        return next((f"http://127.0.0.1:{p.host}/" for p in (w.ports if w else ()) if p.http), None)

    # -- building -----------------------------------------------------------------------------
    async def _build_for(self, tenants: list[str], force: bool = False) -> dict[str, str]:
        needed = {w.build_image for t in tenants for w in self.specs[t].workloads.values() if w.build_image}
        return await self._build(needed, force)

    async def _build(self, images: set[str], force: bool = False) -> dict[str, str]:
        if not images:
            return {}
        if self._build_lock is None:
            self._build_lock = asyncio.Lock()
        async with self._build_lock:  # a live update's background build and a rebuild never overlap
            return await self._build_now(images, force)

    async def _build_now(self, images: set[str], force: bool) -> dict[str, str]:
        self._cancel_build.clear()

        def run() -> Any:
            return self._new_builder().build(sorted(images), self._cancel_build, force)

        try:
            results = await asyncio.to_thread(run)
        except asyncio.CancelledError:
            self._cancel_build.set()
            raise
        except BuildError:
            raise
        except Exception:  # the engine went away, say: the next build connects afresh
            self._build_client = None
            raise
        refs = {k: r.ref for k, r in results.items()}
        self._know_images(refs)
        return refs

    def _new_builder(self) -> Any:
        """A builder for one build. The default builders share one Docker client: connecting and
        pinging the engine anew cost every rebuild ~15 ms before its first step."""
        if self.builder_factory is not default_builder:
            return self.builder_factory(self.project, self.emit)
        from devenv.build.builder import Builder

        return Builder(self.project, emit=self.emit, client=self._build_client,
                       client_factory=self._shared_build_client)

    def _shared_build_client(self) -> Any:
        """Made when a build first needs the SDK (a no-op build never does: ``Builder.client``)."""
        with self._build_client_lock:
            if self._build_client is None:
                self._build_client = dockerclient.client(timeout=60)
            return self._build_client

    def _fail(self, message: str, tail: Any, tenants: list[str], component: str = "") -> None:
        self.emit(Timeline(kind="fail", message=message, tenants=tuple(tenants), detail=tuple(tail or ()),
                           component=component))

    # -- watching -----------------------------------------------------------------------------
    def _start_monitor(self) -> None:
        if self._monitor is None and self.follow:
            self._monitor = self.backend.monitor(self.tenants, self._log_sink)
            self._monitor.start()

    async def start_watching(self) -> None:
        from devenv.watch.ignore import DockerIgnoreCache
        from devenv.watch.mapping import watch_roots
        from devenv.watch.observer import Watcher, check_inotify

        self._batches = asyncio.Queue()
        roots = watch_roots(self.project.app, self._every_spec())  # base chain included
        loop = asyncio.get_running_loop()
        queue = self._batches

        def on_batch(changes: dict[Path, Any]) -> None:
            loop.call_soon_threadsafe(queue.put_nowait, changes)

        self._ignore = DockerIgnoreCache()  # shared with plan_changes: a .dockerignore edit applies at once
        self._watcher = Watcher(roots, on_batch, is_ignored=self._ignore)
        await asyncio.to_thread(self._watcher.start)
        files = self._watcher.file_count()
        warning = check_inotify(self._watcher.dir_count())
        if warning:
            self.emit(Timeline(kind="warn", message=warning))
        self._tasks.append(asyncio.create_task(self._apply_batches()))
        self.emit(WatchStatus(watching=True, files=files))

    def _every_spec(self) -> list[TenantSpec]:
        """The session's specs and every other tenant's: a tenant started later from the TUI has
        its sources watched from the start too."""
        specs = dict(self.specs)
        for t in self.project.profiles:
            if t not in specs:
                try:
                    specs[t] = resolve(self.project, t, "local")
                except DevenvError:  # a tenant that cannot resolve cannot start either
                    continue
        return list(specs.values())

    async def initial_sync(self) -> None:
        """Edits made while devenv was stopped reach the running containers (``devenv watch``)."""
        for tenant in sorted(self._active()):
            self._hold(tenant)
            await self._catch_up(tenant, "while devenv was stopped")

    async def _catch_up(self, tenant: str, when: str = "") -> None:
        """Bring a tenant that just came up to the files as they are now: the saves queued while
        it built, started and waited for health, plus any file that differs from what its
        containers run (compared with content tags computed now, not before the build)."""
        pending = self._release(tenant)
        if pending is None or not self.watch_enabled:
            return
        changes = {**await self._stale_files(tenant), **pending}
        if not changes:
            return
        from devenv.watch.mapping import plan_changes

        plan = plan_changes(self.project.app, [self.specs[tenant]], changes, is_ignored=self._ignore)
        if plan.empty:
            return
        self.emit(Timeline(kind="info", tenants=(tenant,), detail=tuple(str(p) for p in sorted(changes)),
                           message=f"{len(changes)} file(s) changed {when or 'while it started'}; applying"))
        for action in plan.syncs:
            await self._sync(action)
        if plan.rebuilds:
            await self._rebuild_and_redeploy(plan, only={tenant})

    async def _stale_files(self, tenant: str) -> dict[Path, Any]:
        """Inputs changed since the tenant's running images were built, for each component whose
        running image is not the content tag of today's files."""
        from devenv.watch.initial import changed_since
        from devenv.watch.mapping import image_chain

        current = await asyncio.to_thread(_current_tags, self.project)
        spec = self.specs[tenant]
        changes: dict[Path, Any] = {}
        for comp, w in spec.workloads.items():
            if not w.build_image:
                continue
            running = await asyncio.to_thread(self.backend.running_image, tenant, comp)
            if running and running == current.get(w.build_image):
                continue  # content-addressed: that image holds exactly today's files
            since = await asyncio.to_thread(self.backend.image_created, tenant, comp)
            if since is None:
                continue
            for image in image_chain(self.project.app, w.build_image):  # the base chain too
                for p in await asyncio.to_thread(changed_since, self.project.app, image, since):
                    changes[p] = "modified"
        return changes

    def _active(self) -> set[str]:
        """The tenants the inner loop acts on: up (or degraded) and not still starting."""
        return {t for t in self.state.specs if t not in self.state.pending
                and (v := self.state.tenants.get(t)) is not None and v.state in ("up", "degraded", "starting")}

    async def _apply_batches(self) -> None:
        assert self._batches is not None
        while True:
            changes = await self._batches.get()
            while not self._batches.empty():  # merge what queued up during the last action
                changes.update(self._batches.get_nowait())
            try:
                await self.apply_changes(changes)
            except Exception as exc:  # the watcher carries on; the next save retries
                self._fail(f"applying changes failed: {exc}", (), list(self.specs))

    async def apply_changes(self, changes: dict[Path, Any]) -> None:
        """Act on a batch for the tenants that are up; tenants still starting keep it for later."""
        from devenv.watch.mapping import plan_changes

        if self._tails is None:
            from devenv.engine.live import DockerfileTails

            self._tails = DockerfileTails()
        self._hold_changes(changes)
        active = self._active()
        if not active:
            return
        specs = [s for t, s in self.specs.items() if t in active]
        plan = plan_changes(self.project.app, specs, changes, is_ignored=self._ignore, tail_of=self._tails)
        if plan.empty:
            why = "; ".join(f"{p.name}: {r}" for p, r in plan.ignored[:3])
            self.emit(Timeline(kind="info", message=f"{len(plan.ignored)} change(s) ignored ({why})",
                               detail=tuple(f"{p}: {r}" for p, r in plan.ignored)))
            return
        if plan.superseded:
            self._say_superseded(plan.superseded)
        for action in plan.syncs:
            await self._sync(action)
        if plan.rebuilds:
            await self._rebuild_and_redeploy(plan)
        if plan.live_builds:
            self._tasks.append(asyncio.create_task(self._build_behind(plan.live_builds, plan.syncs)))

    def _say_superseded(self, superseded: list[tuple[Path, str]]) -> None:
        """The syncs a rebuild of the same image made pointless, on the timeline with the planner's why."""
        self.emit(Timeline(kind="info", message=f"{len(superseded)} file(s) not synced: {superseded[0][1]}",
                           files=tuple(self._relpath(str(p)) for p, _ in superseded),
                           detail=tuple(f"{p}: {why}" for p, why in superseded)))

    async def _sync(self, action: Any) -> None:
        t0 = time.perf_counter()
        files: list[SyncFile] = list(action.files)
        try:
            await asyncio.gather(*(self._sync_one(tenant, action, files) for tenant in action.tenants))
        except DevenvError as exc:
            self._fail(f"sync of {action.component} failed: {exc.message}", (), list(action.tenants),
                       component=action.component)
            return
        ms = (time.perf_counter() - t0) * 1000
        then = " and restarted" if action.then_restart else (" and ran its command" if action.then_exec else "")
        names = ", ".join(Path(s or d).name for s, d in action.files[:3]) + (" ..." if len(action.files) > 3 else "")
        how = (f"live update inferred from {action.inferred}: synced {len(files)} file(s) [{names}] -> "
               f"{action.rule.target}{then}, no recreate" if action.inferred else
               f"synced {len(files)} file(s) [{names}] by rule {action.rule.path} -> {action.rule.target}{then}")
        self.emit(Timeline(
            kind="sync", component=action.component, tenants=tuple(action.tenants), cost_ms=ms, message=how,
            files=tuple(self._relpath(s or d) for s, d in action.files),
            detail=tuple(f"{s or '(deleted)'} -> {d}" for s, d in action.files)))

    async def _build_behind(self, reasons: dict[str, str], syncs: list[Any]) -> None:
        """After a live update: build its images (by appending, as a rebuild would) without
        redeploying, so the next ``up`` is exact; record which containers run synced content."""
        from devenv.engine.live import record_live

        if any(a.inferred and a.then_restart for a in syncs):
            await asyncio.sleep(BEHIND_AFTER_RESTART)
        t0 = time.perf_counter()
        before = dict(self.images)
        try:
            await self._build(set(reasons))
        except BuildError as exc:
            self._fail(f"background build of {exc.image} after a live update failed: "
                       f"{exc.message.splitlines()[0]} (the containers keep the synced files)",
                       exc.log_tail, sorted({t for a in syncs for t in a.tenants}), component=exc.image)
            return
        except Exception as exc:  # noqa: BLE001 - the live update stands; say why the image lags
            self._fail(f"background build after a live update failed: {exc}", (), [])
            return
        for action in syncs:
            image = self.project.app.components[action.component].image or ""
            if not action.inferred or image not in reasons:
                continue
            files = [d for _s, d in action.files]
            for tenant in action.tenants:
                running = await asyncio.to_thread(self.backend.running_image, tenant, action.component)
                await asyncio.to_thread(record_live, self.project.app.root, tenant, action.component,
                                        running or before.get(image, ""), self.images.get(image, ""),
                                        action.inferred, files)
        self.emit(Timeline(kind="build", message=f"built {', '.join(sorted(reasons))} behind the live update: "
                           "the next up recreates on it", cost_ms=(time.perf_counter() - t0) * 1000))

    async def _sync_one(self, tenant: str, action: Any, files: list[SyncFile]) -> None:
        await asyncio.to_thread(self.backend.sync, tenant, action.component, files)
        if action.then_exec:
            await asyncio.to_thread(self.backend.exec, tenant, action.component, list(action.then_exec))
        if action.then_restart:
            await asyncio.to_thread(self.backend.restart, tenant, action.component)

    async def _rebuild_and_redeploy(self, plan: ChangePlan, force: bool = False,
                                    only: set[str] | None = None) -> None:
        """Rebuild the plan's images, then redeploy what the plan says (the watch planner is the
        one place that decides who is redeployed) for the active tenants. With ``only`` (a tenant
        catching up), those tenants' components are redeployed whenever they run another image
        than the one just built, even if another tenant's rebuild made it."""
        from devenv.watch.mapping import plan_tenants

        t0 = time.perf_counter()
        before = dict(self.images)
        reasons = dict(plan.rebuilds)
        affected = plan_tenants(plan) & (only if only is not None else self._active())
        why = "; ".join(f"{img}: {r}" for img, r in sorted(reasons.items()))
        self.emit(Timeline(kind="rebuild", message=f"{why} -> rebuilding {', '.join(sorted(reasons))}; "
                           f"{len(affected)} tenant(s) to redeploy", tenants=tuple(sorted(affected))))
        try:
            await self._build(set(reasons), force)
        except BuildError as exc:
            self._fail(f"build of {exc.image} failed: {exc.message.splitlines()[0]} (watching on; the next save retries)",
                       exc.log_tail, sorted(affected), component=exc.image)
            return
        changed = {k for k, v in self.images.items() if before.get(k) != v} | (set(reasons) if force else set())
        if only is not None:
            changed |= await asyncio.to_thread(self._stale_images, affected, set(reasons))
        if not changed:
            self.emit(Timeline(kind="info", message="no image changed (their content tags were already built); "
                               "nothing to redeploy", cost_ms=(time.perf_counter() - t0) * 1000))
            return
        await asyncio.gather(*(self._redeploy(t, plan, changed, t0) for t in sorted(affected)))

    async def _redeploy(self, tenant: str, plan: ChangePlan, changed: set[str], t0: float) -> None:
        """Recreate the components the plan redeploys in ``tenant`` whose image changed; tenants
        go in parallel."""
        spec = self.specs[tenant]
        comps = [c for c, tenants in plan.redeploys.items()
                 if tenant in tenants and c in spec.workloads and spec.workloads[c].build_image in changed]
        if not comps:
            return
        try:
            await asyncio.to_thread(self.backend.redeploy, spec, self.images, comps, self.timeout)
        except DevenvError as exc:
            self._fail(f"redeploy of {', '.join(comps)} failed: {exc.message.splitlines()[0]}",
                       exc.message.splitlines()[1:], [tenant], component=", ".join(comps))
            return
        from devenv.engine.live import clear_live

        await asyncio.to_thread(clear_live, self.project.app.root, tenant, comps)
        self.emit(Timeline(kind="redeploy", message="redeployed on the new image", component=", ".join(comps),
                           tenants=(tenant,), cost_ms=(time.perf_counter() - t0) * 1000))

    def _stale_images(self, tenants: set[str], images: set[str]) -> set[str]:
        """Of ``images``, those some component of ``tenants`` runs in another version than built."""
        return {w.build_image for t in tenants for c, w in self.specs[t].workloads.items()
                if w.build_image in images and self.backend.running_image(t, c) != self.images.get(w.build_image)}

    def _relpath(self, path: str) -> str:
        """A host path as the user knows it: relative to the project's root when under it."""
        try:
            return Path(path).relative_to(self.project.app.root).as_posix()
        except ValueError:
            return path


def _on_loop(loop: asyncio.AbstractEventLoop) -> bool:
    try:
        return asyncio.get_running_loop() is loop
    except RuntimeError:
        return False


def _presence(backend: Backend) -> tuple[list[ComponentStatus], set[str]]:
    """Every component the backend runs for this project, and the tenants whose data outlived
    their containers; nothing when the backend cannot say."""
    try:
        rows = backend.status()
        kept = backend.tenants_with_volumes()
    except Exception:  # a frontend still lists every tenant, only without their state
        return [], set()
    return rows, set(kept)


def _current_tags(project: Project) -> dict[str, str]:
    from devenv.build.graph import compute_tags

    return compute_tags(project.app)


def _masker(project: Project, specs: list[TenantSpec]) -> Any:
    from devenv.secrets import Masker, local_secret_values

    values: list[str] = []
    for spec in specs:
        for keys in local_secret_values(project.app.root, spec).values():
            values += list(keys.values())
    return Masker(values)
