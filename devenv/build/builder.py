"""Build the image graph: skip what exists, build the rest parents first and siblings in parallel.

Per image: its content tag comes from ``graph.plan``; when the engine already has an image with
that tag the image is ``cached`` and no context is sent. Otherwise the builder sends the tar of
exactly the hashed files to the engine's build API, untagged, and tags the resulting image id only
once the build succeeded, so a failed or interrupted build never leaves a tag behind. Each finished
artifact is recorded in ``<root>/.devenv/builds.json`` as it completes, not at the end.

Three ways to build, fastest that applies first: appending the Dockerfile's COPY/metadata tail to
its recorded head (``append.py``); the engine's BuildKit through a docker client that needs no
buildx, for Dockerfiles with ``RUN`` steps (``buildkit.py``: cache mounts, parallel stages); the
engine's classic build API, always there, which streams "Step N/M" progress we map to Dockerfile
lines. Whatever way, the image is tagged only once built.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import socket
import subprocess
import tarfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from devenv import dockerclient, layout
from devenv.build import buildkit
from devenv.build import dockerfile as df
from devenv.build.digest import DigestCache
from devenv.build.graph import ImagePlan, plan
from devenv.errors import BuildError, DevenvError, EngineError
from devenv.events import BuildFinished, BuildProgress, BuildStarted, BuildWaiting, Event
from devenv.fsutil import atomic_write_json, state_text
from devenv.lock import file_lock, wait_lock
from devenv.model.types import App, Project

if TYPE_CHECKING:  # the appender and the context tar load when an image really builds
    from devenv.build.append import Appended, Appender

LOG_TAIL = 30
CANCEL_GRACE = 5.0  # seconds to wait for in-flight builds to notice a cancel
RECORD_FILE = layout.BUILDS
LOCK_DIR = layout.LOCKS

_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")
_BUILT = re.compile(r"^Successfully built ([0-9a-f]+)")
_PARSE_LINE = re.compile(r"line (\d+)")


@dataclass(frozen=True)
class BuildResult:
    """One image of a build run: what was built (or found) and what it cost."""

    image: str
    ref: str
    status: Literal["built", "cached"]
    seconds: float
    context_files: int
    context_bytes: int
    dockerfile: Path
    build_args: dict[str, str]
    parent: str | None
    steps: int = 0
    cached_steps: int = 0
    context: Path | None = None
    reason: str = ""
    image_id: str = ""
    method: Literal["classic", "append", "buildkit", ""] = ""  # how a built image was made
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "image": self.image, "tag": self.ref, "status": self.status, "seconds": round(self.seconds, 3),
            "context": str(self.context) if self.context else None, "dockerfile": str(self.dockerfile),
            "build_args": dict(self.build_args), "context_files": self.context_files,
            "context_bytes": self.context_bytes, "steps": self.steps, "cached_steps": self.cached_steps,
            "reason": self.reason,
        }
        if self.method:
            out["method"] = self.method
            out["detail"] = self.detail
        if self.parent:
            out["parent"] = self.parent
        return out


class BuildCancelled(DevenvError):
    """The user interrupted the build; nothing half-built was tagged."""

    exit_code = 130


def make_context_tar(*args: Any, **kw: Any) -> Any:
    """``context.make_context_tar``, imported (with ``tarfile``) when an image really builds."""
    from devenv.build.context import make_context_tar as make

    return make(*args, **kw)


def default_concurrency() -> int:
    env = os.environ.get("DEVENV_BUILD_CONCURRENCY", "").strip()
    if env.isdigit() and int(env) > 0:
        return int(env)
    return max(1, min(4, os.cpu_count() or 1))


def buildx_available() -> bool:
    """Whether ``docker buildx`` answers. Not used for building yet (see the module docstring);
    ``devenv doctor`` may report it."""
    try:
        return subprocess.run(["docker", "buildx", "version"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@dataclass
class _StreamState:
    """What the build stream told us so far."""

    tail: deque[str] = field(default_factory=lambda: deque(maxlen=LOG_TAIL))
    step: int = 0
    total: int = 0
    cached: int = 0
    image_id: str = ""
    error: str = ""
    partial: str = ""
    steps: set[str] = field(default_factory=set)  # BuildKit vertices seen as steps
    cached_steps: set[str] = field(default_factory=set)


class Builder:
    """Builds images of one project. ``emit`` receives events from worker threads, so it must be
    thread-safe (the engine hands them to its loop with ``call_soon_threadsafe``)."""

    _buildkit_off = ""  # why BuildKit cannot build here; kept for the process (one Builder per rebuild)

    def __init__(self, project: Project | App, emit: Callable[[Event], None] | None = None,
                 concurrency: int | None = None, client: Any = None,
                 client_factory: Callable[[], Any] | None = None) -> None:
        self.app = project.app if isinstance(project, Project) else project
        self.emit = emit or (lambda _e: None)
        self.concurrency = max(1, concurrency or default_concurrency())
        self._client = client
        self.plans: dict[str, ImagePlan] = {}  # the last run's plans (the build command records them)
        self._client_factory = client_factory
        self._record_lock = threading.Lock()
        self._appender: Appender | None = None

    @property
    def appender(self) -> Appender:
        """The layer appender, made (and its module imported) when an image really builds."""
        if self._appender is None:
            from devenv.build.append import Appender

            self._appender = Appender(self.app.root, lambda: self.client)
        return self._appender

    @property
    def client(self) -> Any:
        """The SDK client, made on first use: a no-op build never needs it (its reads go over plain
        HTTP, ``dockerhttp``), and importing and connecting the SDK cost more than the build."""
        if self._client is None:
            self._client = self._client_factory() if self._client_factory else dockerclient.client(timeout=60)
        return self._client

    def build(self, images: Iterable[str] | None = None, cancel: threading.Event | None = None,
              force: bool = False) -> dict[str, BuildResult]:
        """Build ``images`` (default: all) and their ancestors; return a result per image.

        Raises ``BuildError`` for the first failed image (others in flight finish first) and
        ``BuildCancelled`` when ``cancel`` is set or the user presses Ctrl+C."""
        cancel = cancel or threading.Event()
        cache = DigestCache(self.app.root)
        plans = plan(self.app, images, cache, self._client)  # None: external ids over plain HTTP
        cache.save()
        self.plans = plans  # what the run was computed from (the build command's replay record)
        return _Run(self, plans, cancel, force).run()

    # -- one image ----------------------------------------------------------------------------

    def exists(self, ref: str) -> str | None:
        """The id of the local image tagged ``ref``, or None."""
        if self._client is None:  # no SDK client yet: one GET, no SDK import
            from devenv import dockerhttp

            info = dockerhttp.inspect_image(ref)
            return str(info["Id"]) if info else None
        import docker.errors

        try:
            return str(self.client.api.inspect_image(ref)["Id"])
        except docker.errors.ImageNotFound:
            return None
        except docker.errors.APIError as exc:
            raise EngineError(f"the engine refused to inspect {ref}: {exc}") from exc

    def existing_tags(self, refs: Iterable[str]) -> dict[str, str]:
        """Which of ``refs`` exist locally -> image id. One inspect per ref: the engine's image
        list costs time in proportion to every image on the machine (140-200 ms with a few
        hundred), an inspect 3-4 ms whatever the machine holds."""
        found: dict[str, str] = {}
        for ref in refs:
            image_id = self.exists(ref)
            if image_id:
                found[ref] = image_id
        return found

    def cached_result(self, p: ImagePlan, image_id: str, started: float, reason: str = "") -> BuildResult:
        return _result(p, "cached", time.monotonic() - started, image_id=image_id, reason=reason)

    def build_one(self, p: ImagePlan, cancel: threading.Event, reason: str, force: bool = False) -> BuildResult:
        """Build one image whose tag does not exist (or ``force``); tag it only on success."""
        started = time.monotonic()
        self.emit(BuildStarted(p.image, p.ref, reason))
        with self._image_lock(p.image, cancel):
            found = None if force else self.exists(p.ref)
            if found:
                return self.cached_result(p, found, started, "built meanwhile by another devenv")
            method: Literal["classic", "append", "buildkit"]
            appended = self._append(p, cancel)
            kit = None if appended is not None else self._buildkit(p, cancel)
            if appended is not None:
                image_id, steps, cached, method, detail = appended.image_id, 0, 0, "append", appended.detail
            elif kit is not None:
                image_id, steps, cached, method, detail = kit.image_id, kit.total, kit.cached, "buildkit", ""
            else:
                state = self._run_build(p, cancel)
                image_id, steps, cached, method, detail = state.image_id, state.total, state.cached, "classic", ""
            if cancel.is_set():
                raise BuildCancelled(f"build of '{p.image}' cancelled")
            repo, _, tag = p.ref.rpartition(":")
            self.client.api.tag(image_id, repo, tag, force=True)
            if method == "classic":
                self.appender.record(p, image_id)
            elif method == "buildkit":
                self._record_buildkit_head(p, image_id, cancel)
        res = _result(p, "built", time.monotonic() - started, steps, cached, image_id, reason)
        res = dataclasses.replace(res, method=method, detail=detail)
        self.record(res)
        return res

    def _append(self, p: ImagePlan, cancel: threading.Event) -> Appended | None:
        """The image built by appending the Dockerfile's tail to its cached head, or None (and a
        progress line saying why) when the classic builder must run."""
        if cancel.is_set():
            return None
        from devenv.build.append import Unsupported

        try:
            done = self.appender.build(p)
        except Unsupported as exc:
            if str(exc) != "no recorded head for these inputs":
                self.emit(BuildProgress(p.image, 0, 0, f"full build: {exc}"))
            return None
        except Exception as exc:  # anything unexpected: a full build is always right
            self.emit(BuildProgress(p.image, 0, 0, f"full build: appending failed: {exc}"))
            return None
        self.emit(BuildProgress(p.image, 1, 1, done.detail))
        return done

    def _buildkit(self, p: ImagePlan, cancel: threading.Event) -> _StreamState | None:
        """The image built through the engine's BuildKit, or None (the classic path runs) when the
        Dockerfile runs no ``RUN`` step or BuildKit is not available here."""
        if cancel.is_set() or not buildkit.enabled() or self._buildkit_off:
            return None
        instructions = df.read(p.definition.dockerfile)
        if not buildkit.runs_steps(instructions):
            return None
        state = _StreamState()
        tar, name = make_context_tar(p.definition.context, p.context.paths, p.definition.dockerfile,
                                     fmt=tarfile.GNU_FORMAT)
        with tar:
            try:
                state.image_id = buildkit.build(tar, name, p.build_args, p.definition.target, cancel,
                                                lambda line: self._on_kit_line(p, line, state))
            except buildkit.NotAvailable as exc:
                Builder._buildkit_off = str(exc)
                self.emit(BuildProgress(p.image, 0, 0, f"classic build: {exc}"))
                return None
            except RuntimeError as exc:
                if cancel.is_set():
                    raise BuildCancelled(f"build of '{p.image}' cancelled") from exc
                message = str(exc).splitlines()[-1] if str(exc) else "the build failed"
                line = buildkit.failed_line(list(state.tail), instructions)
                raise BuildError(p.image, message.removeprefix("error: "), list(state.tail),
                                 p.definition.dockerfile, line) from exc
        return state

    def _on_kit_line(self, p: ImagePlan, line: str, state: _StreamState) -> None:
        """Progress from BuildKit's plain output: a step per ``[i/n]`` vertex, counted as cached
        once when that vertex says ``CACHED`` (BuildKit repeats a vertex's header line)."""
        state.tail.append(line)
        step = buildkit.step_of(line)
        vertex = buildkit.vertex_of(line)
        if step is not None:
            state.step, state.total = step[0], step[1]
            if vertex not in state.steps:
                state.steps.add(vertex)
                self.emit(BuildProgress(p.image, step[0], step[1], step[2]))
        elif buildkit.is_cached(line) and vertex in state.steps and vertex not in state.cached_steps:
            state.cached_steps.add(vertex)
            state.cached += 1
            self.emit(BuildProgress(p.image, state.step, state.total, "  (cached)", cached=True))

    def _record_buildkit_head(self, p: ImagePlan, image_id: str, cancel: threading.Event) -> None:
        """After a BuildKit build: build its head (every step cached, so quick) and record it, so
        the next tail-only change appends instead of running the classic builder's own steps."""
        with contextlib.suppress(Exception):
            head = self.appender.head_text(p)
            if head is None:
                return
            key, text = head
            tar, name = make_context_tar(p.definition.context, p.context.paths, p.definition.dockerfile,
                                         dockerfile_text=text, fmt=tarfile.GNU_FORMAT)
            with tar:
                head_id = buildkit.build(tar, name, p.build_args, None, cancel, lambda line: None)
            self.appender.record_head(key, head_id, image_id)

    def _run_build(self, p: ImagePlan, cancel: threading.Event) -> _StreamState:
        instructions = df.read(p.definition.dockerfile)
        text = p.definition.dockerfile.read_text(encoding="utf-8", errors="replace")
        tar, dockerfile_name = make_context_tar(p.definition.context, p.context.paths, p.definition.dockerfile,
                                                dockerfile_text=buildkit.strip_mounts(text)
                                                if buildkit.needs_buildkit(text) else None)
        state = _StreamState()
        with tar:
            try:
                for msg in self._stream(tar, self._params(p, dockerfile_name), cancel):
                    self._on_message(p, msg, state)
            except BuildCancelled:
                raise
            except Exception as exc:
                if cancel.is_set():
                    raise BuildCancelled(f"build of '{p.image}' cancelled") from exc
                raise self._error(p, instructions, state, f"the engine broke off the build: {exc}") from exc
        if cancel.is_set():
            raise BuildCancelled(f"build of '{p.image}' cancelled")
        if state.error or not state.image_id:
            raise self._error(p, instructions, state, state.error or "the build reported no image id")
        return state

    def _params(self, p: ImagePlan, dockerfile_name: str) -> dict[str, Any]:
        # No build labels: the classic builder turns each into an extra committed step (~130 ms
        # apiece); the repository name devenv/<app>-<image> already says whose image it is.
        params: dict[str, Any] = {
            "dockerfile": dockerfile_name, "rm": "1", "forcerm": "1", "pull": "0", "q": "0",
            "buildargs": json.dumps(p.build_args),
        }
        if p.definition.target:
            params["target"] = p.definition.target
        return params

    def _stream(self, tar: Any, params: dict[str, Any], cancel: threading.Event) -> Iterator[dict[str, Any]]:
        """POST /build and yield its JSON messages. A watcher thread shuts the socket down when
        ``cancel`` is set: that wakes the blocked read at once and makes the engine abort the
        build (it cancels builds whose client went away)."""
        api = self.client.api
        resp = api._post(api._url("/build"), data=tar, params=params,
                         headers={"Content-Type": "application/x-tar"}, stream=True, timeout=None)
        api._raise_for_status(resp)
        done = threading.Event()
        watcher = threading.Thread(target=_cut_on_cancel, args=(resp, cancel, done), daemon=True,
                                   name="devenv-build-cancel")
        watcher.start()
        try:
            yield from _json_messages(resp.iter_content(chunk_size=None))
        finally:
            done.set()
            resp.close()

    def _on_message(self, p: ImagePlan, msg: dict[str, Any], state: _StreamState) -> None:
        if "error" in msg:
            state.error = str(msg.get("error") or msg.get("errorDetail", {}).get("message", "")).strip()
            state.tail.append(state.error)
            return
        aux = msg.get("aux")
        if isinstance(aux, dict) and aux.get("ID"):
            state.image_id = str(aux["ID"])
        text = msg.get("stream")
        if not isinstance(text, str):
            return
        state.partial += text
        *lines, state.partial = state.partial.split("\n")
        for line in lines:
            self._on_line(p, line.rstrip("\r"), state)

    def _on_line(self, p: ImagePlan, line: str, state: _StreamState) -> None:
        if not line.strip():
            return
        state.tail.append(line)
        m = _STEP.match(line)
        if m:
            state.step, state.total = int(m.group(1)), int(m.group(2))
            self.emit(BuildProgress(p.image, state.step, state.total, line))
        elif line.strip() == "---> Using cache":
            state.cached += 1
            self.emit(BuildProgress(p.image, state.step, state.total, line, cached=True))
        elif (b := _BUILT.match(line)) and not state.image_id:
            state.image_id = b.group(1)

    def _error(self, p: ImagePlan, instructions: list[df.Instruction], state: _StreamState,
               message: str) -> BuildError:
        line = None
        if 0 < state.step <= len(instructions):
            line = instructions[state.step - 1].line
        elif state.step == 0 and (m := _PARSE_LINE.search(message)):
            line = int(m.group(1))
        return BuildError(p.image, message, list(state.tail), p.definition.dockerfile, line)

    @contextlib.contextmanager
    def _image_lock(self, image: str, cancel: threading.Event) -> Iterator[None]:
        """One build of an image at a time across devenv processes (a watcher and a CLI run)."""
        path = layout.image_lock(self.app.root, image)
        with wait_lock(path, cancel, lambda: BuildCancelled(f"build of '{image}' cancelled")):
            yield

    def record(self, res: BuildResult) -> None:
        """Add one finished artifact to ``builds.json`` now, so an interrupted run keeps it."""
        path = self.app.root / RECORD_FILE
        with self._record_lock, file_lock(path.with_suffix(".lock")):
            data = read_records(self.app.root)
            data[res.image] = {"ref": res.ref, "built_at": time.time(), "seconds": round(res.seconds, 3),
                               "image_id": res.image_id}
            atomic_write_json(path, data)


def read_records(root: Path) -> dict[str, Any]:
    """``builds.json``: image -> {ref, built_at, seconds, image_id} of its last successful build."""
    try:
        data = json.loads(state_text(Path(root) / RECORD_FILE))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _result(p: ImagePlan, status: Literal["built", "cached"], seconds: float, steps: int = 0,
            cached_steps: int = 0, image_id: str = "", reason: str = "") -> BuildResult:
    d = p.definition
    return BuildResult(p.image, p.ref, status, seconds, p.context.files, p.context.bytes, d.dockerfile,
                       dict(p.build_args), p.parent, steps, cached_steps, d.context, reason, image_id)


def _json_messages(chunks: Iterable[bytes]) -> Iterator[dict[str, Any]]:
    """Decode the concatenated JSON objects of a build stream, whatever the chunking."""
    decoder = json.JSONDecoder()
    buf = ""
    for chunk in chunks:
        buf += chunk.decode("utf-8", errors="replace")
        while True:
            buf = buf.lstrip()
            if not buf:
                break
            try:
                obj, end = decoder.raw_decode(buf)
            except ValueError:
                break
            buf = buf[end:]
            if isinstance(obj, dict):
                yield obj


def _cut_on_cancel(resp: Any, cancel: threading.Event, done: threading.Event) -> None:
    while not done.is_set():
        if cancel.wait(0.1):
            sock = _raw_socket(resp)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(Exception):
                resp.close()
            return


def _raw_socket(resp: Any) -> socket.socket | None:
    """The socket under a streamed requests response (unix socket or TCP)."""
    try:
        raw = resp.raw._fp.fp.raw
    except AttributeError:
        return None
    sock = getattr(raw, "_sock", raw)
    return sock if isinstance(sock, socket.socket) else None


class _Run:
    """One ``Builder.build`` call: schedules each image as soon as its parent is ready."""

    def __init__(self, builder: Builder, plans: dict[str, ImagePlan], cancel: threading.Event, force: bool) -> None:
        self.b = builder
        self.plans = plans
        self.cancel = cancel
        self.force = force
        self.results: dict[str, BuildResult] = {}
        self.built: set[str] = set()
        self.failed: list[BaseException] = []
        self.running: dict[Future[BuildResult], str] = {}
        self.waiting = set(plans)
        self.announced: set[str] = set()

    def run(self) -> dict[str, BuildResult]:
        if not self.force:
            self._mark_existing()
        pool = ThreadPoolExecutor(max_workers=self.b.concurrency, thread_name_prefix="devenv-build")
        try:
            self._loop(pool)
        except KeyboardInterrupt:
            self.cancel.set()
        finally:
            self._drain()
            pool.shutdown(wait=False, cancel_futures=True)
        if self.cancel.is_set():
            raise BuildCancelled("build cancelled; nothing unfinished was tagged")
        if self.failed:
            raise self.failed[0]
        return {k: self.results[k] for k in self.plans if k in self.results}

    def _mark_existing(self) -> None:
        """Images whose tag exists are done before any thread starts. A child's tag covers its
        parent's tag, so it needs no wait for the parent either."""
        started = time.monotonic()
        existing = self.b.existing_tags(p.ref for p in self.plans.values())
        for name, p in self.plans.items():
            if p.ref in existing:
                self.results[name] = self.b.cached_result(p, existing[p.ref], started)
                self.waiting.discard(name)
                self.b.emit(BuildFinished(name, p.ref, "cached", self.results[name].seconds))

    def _loop(self, pool: ThreadPoolExecutor) -> None:
        while not self.cancel.is_set():
            if not self.failed:
                self._schedule(pool)
            if not self.running:
                return
            finished, _ = wait(list(self.running), timeout=0.2, return_when=FIRST_COMPLETED)
            for fut in finished:
                self._collect(fut)

    def _schedule(self, pool: ThreadPoolExecutor) -> None:
        for name in sorted(self.waiting):
            parent = self.plans[name].parent
            if parent is not None and parent not in self.results:
                if name not in self.announced:
                    self.announced.add(name)
                    self.b.emit(BuildWaiting(name, f"waiting for {parent}"))
                continue
            self.waiting.discard(name)
            self.running[pool.submit(self._one, name)] = name

    def _one(self, name: str) -> BuildResult:
        p = self.plans[name]
        started = time.monotonic()
        if self.cancel.is_set():
            raise BuildCancelled(f"build of '{name}' cancelled")
        if not self.force:
            found = self.b.exists(p.ref)
            if found:
                res = self.b.cached_result(p, found, started)
                self.b.emit(BuildFinished(name, p.ref, "cached", res.seconds))
                return res
        reason = "forced" if self.force else f"no image with tag {p.ref}"
        if p.parent in self.built:
            reason += f" (parent '{p.parent}' was rebuilt)"
        try:
            res = self.b.build_one(p, self.cancel, reason, self.force)
        except BuildCancelled:
            self.b.emit(BuildFinished(name, p.ref, "cancelled", time.monotonic() - started))
            raise
        except BuildError as exc:
            self.b.emit(BuildFinished(name, p.ref, "failed", time.monotonic() - started, exc.message,
                                      tuple(exc.log_tail)))
            raise
        self.b.emit(BuildFinished(name, p.ref, res.status, res.seconds))
        return res

    def _collect(self, fut: Future[BuildResult]) -> None:
        name = self.running.pop(fut)
        try:
            res = fut.result()
        except BuildCancelled:
            self.cancel.set()
            return
        except BaseException as exc:
            self.failed.append(exc)
            return
        self.results[name] = res
        if res.status == "built":
            self.built.add(name)

    def _drain(self) -> None:
        """Give in-flight builds a moment to see the cancel and stop; never tag after it."""
        deadline = time.monotonic() + (CANCEL_GRACE if self.cancel.is_set() else 1e9)
        while self.running and time.monotonic() < deadline:
            try:
                finished, _ = wait(list(self.running), timeout=0.2, return_when=FIRST_COMPLETED)
            except KeyboardInterrupt:
                self.cancel.set()
                deadline = min(deadline, time.monotonic() + CANCEL_GRACE)
                continue
            for fut in finished:
                self._collect(fut)
