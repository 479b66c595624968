"""Benchmark: save-to-served latency of devenv's inner loop against the real ``docker compose watch``.
Not a test.

Both tools run side by side in one run on one engine, each on its own copy of the sample, the same
tenant (acme: web, api, worker, scheduler, Postgres, Redis), the same web image inputs, and are
measured by the same client: write a unique marker into a file, then GET the web service every
10 ms until the marker is served (every trial is verified; one that never shows is "missed").

* sync: ``web/templates/index.html`` (devenv rule and compose ``develop.watch`` rule: sync to
  /srv/web/templates); polled on ``/``.
* rebuild (a rebuild-class edit): ``web/static/version.txt``; both copies drop the sample's static
  sync rule, so the file falls under no rule. compose gets an explicit ``rebuild`` rule (its only
  way to ship a file it does not sync). devenv needs no rule: web's Dockerfile takes ``static/`` in
  by a trailing ``COPY`` (after its last ``RUN``), so devenv infers a live update (sync into the
  running container, restart it, build the image behind it) where a rebuild used to run; before
  that it rebuilt and recreated (figures in docs/benchmarks.md). Polled on ``/static/version.txt``;
  web reads static files from disk per request, so only a container holding the new file serves
  the marker. Polling runs from the save (what a browser sees); "to start" is the save to the web
  container's ``start`` event (the new container's, or the restarted one's).

Trials alternate which tool goes first. The compose file is devenv's own rendered file for the
tenant with ``build:`` (same context and BASE_IMAGE) and ``develop.watch`` on web, another project
name, other host ports and no devenv labels. web runs as root under both tools (see WEB_AS_ROOT:
compose watch's sync cannot copy into a container whose user the host does not know, on dockerd
20.10). "GET P50" is what one GET of the polled URL costs: the polling client's resolution.

Last: idle CPU over 30 s of devenv's Watcher and of ``docker compose watch`` (the whole process
tree), each watching the same 100,000-file tree, measured in the same window.

Run: ``.venv/bin/python bench/inner_loop.py [--trials N] [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (  # noqa: E402
    copy_sample,
    get_cost_ms,
    loadavg,
    poll_until,
    summarise,
    tree_cpu_seconds,
)

# BENCH_ID=<n> (1-9) runs a second benchmark beside the first on the same engine: other names, ports.
_ID = os.environ.get("BENCH_ID", "").strip()
DEV_APP = f"benchdev{_ID}"  # devenv's app name and DEVENV_PROJECT_PREFIX: compose project benchdev-acme
CW_PROJECT = f"benchcw{_ID}"
IDLE_PROJECT = f"benchidle{_ID}"
DEV_PORT_BASE = 31000 + (int(_ID) * 2000 if _ID.isdigit() else 0)
CW_PORT_OFFSET = 1000  # compose watch publishes on devenv's ports + 1000
TENANT = "acme"
BENCH_LABEL = "dev.devenv.bench"
STATIC_RULE = "      - {path: examples/shop/web/static, action: sync, target: /srv/web/static}\n"
TEMPLATE = "examples/shop/web/templates/index.html"
VERSION = "examples/shop/web/static/version.txt"
TIMEOUTS = {"sync": 30.0, "rebuild": 240.0}
# compose watch copies files with the container user's uid/gid, and dockerd 20.10 looks that user
# up in the *host's* passwd (by name or number alike): for web's user `app` (10001) every compose
# sync fails with 'getent unable to find entry "app"'. So web runs as root under both tools (a
# devenv compose fragment, inherited by the compose watch file rendered from devenv's).
WEB_AS_ROOT = "# benchmark only: see WEB_AS_ROOT in bench/inner_loop.py\nuser: root\n"


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# -- the copies -----------------------------------------------------------------------------------

def prepare_copy(dest: Path, app: str, port_base: int) -> Path:
    """A sample copy whose static/ is not synced (so a change there must rebuild web)."""
    root = copy_sample(dest, app, port_base)
    yaml_file = root / "devenv.yaml"
    text = yaml_file.read_text()
    assert STATIC_RULE in text, "the sample's static sync rule moved; update the benchmark"
    yaml_file.write_text(text.replace(STATIC_RULE, "", 1))
    (root / VERSION).write_text("initial\n")
    (root / "compose" / "web.yaml").write_text(WEB_AS_ROOT)
    return root


def edit(root: Path, kind: str, marker: str) -> tuple[Path, str, str]:
    """(file, url path, new content) for one trial."""
    if kind == "sync":
        return root / TEMPLATE, "/", TEMPLATE_TEXT.replace("<body", f"<!-- {marker} --><body", 1)
    return root / VERSION, "/static/version.txt", marker + "\n"


TEMPLATE_TEXT = (Path(__file__).resolve().parent.parent / TEMPLATE).read_text()


# -- container start events -------------------------------------------------------------------------

class StartTap:
    """Every container ``start`` of our projects, with the engine's timestamp."""

    def __init__(self, projects: set[str]) -> None:
        self.projects = projects
        self.starts: list[tuple[str, str, float]] = []
        self._stream: Any = docker.from_env().events(decode=True, filters={"type": "container", "event": "start"})
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        try:
            for ev in self._stream:
                attrs = ev.get("Actor", {}).get("Attributes", {})
                project = attrs.get("com.docker.compose.project", "")
                if project in self.projects:
                    self.starts.append((project, attrs.get("com.docker.compose.service", ""), ev["timeNano"] / 1e9))
        except Exception:  # the stream closed
            return

    def ms_after(self, project: str, service: str, wall0: float) -> float | None:
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            hits = [t for p, s, t in list(self.starts) if p == project and s == service and t >= wall0]
            if hits:
                return (min(hits) - wall0) * 1000
            time.sleep(0.05)
        return None

    def close(self) -> None:
        self._stream.close()


# -- the two tools ----------------------------------------------------------------------------------

class DevenvSide:
    """devenv's Engine in-process on its own asyncio loop thread, watching its copy."""

    name = "devenv"

    def __init__(self, root: Path) -> None:
        from devenv.backends.compose import ComposeBackend
        from devenv.engine.core import Engine
        from devenv.model import load_project

        self.root = root
        project, _ = load_project(root)
        self.project_obj = project
        self.engine = Engine(project, [TENANT], ComposeBackend(project), watch=True)
        self.project = self.engine.specs[TENANT].project
        self.events: list[tuple[float, Any]] = []
        self.engine.subscribe(lambda ev: self.events.append((time.perf_counter(), ev)))
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro: Coroutine[Any, Any, Any], timeout: float = 1800) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> None:
        self.call(self.engine.start())

    def base_url(self) -> str:
        url = self.engine.url(TENANT, "web")
        assert url, "web publishes no http port"
        return url.rstrip("/")

    def timeline(self, *kinds: str) -> list[Any]:
        from devenv.events import Timeline

        return [e for _, e in list(self.events) if isinstance(e, Timeline) and e.kind in kinds]

    def phases(self, t0: float) -> dict[str, float]:
        """Milliseconds from the save to each step devenv reported (first occurrence after t0)."""
        from devenv.events import BuildFinished, BuildStarted, Timeline

        out: dict[str, float] = {}
        for t, ev in list(self.events):
            if t < t0:
                continue
            name = ("batch" if isinstance(ev, Timeline) and ev.kind == "rebuild" else
                    "build start" if isinstance(ev, BuildStarted) and ev.image == "web" else
                    "build end" if isinstance(ev, BuildFinished) and ev.image == "web" else
                    "healthy" if isinstance(ev, Timeline) and ev.kind == "redeploy" else
                    "live update" if isinstance(ev, Timeline) and ev.kind == "sync" and "inferred" in ev.message else
                    "synced" if isinstance(ev, Timeline) and ev.kind == "sync" else "")
            if name and name not in out:
                out[name] = (t - t0) * 1000
        return out

    def mark(self) -> int:
        return len(self.timeline("sync", "redeploy", "fail", "build"))

    def wait_action(self, before: int, timeout: float = 300) -> None:
        """Until the save's sync (a live update's comes after its restart) or redeploy is reported."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            new = self.timeline("sync", "redeploy", "fail", "build")[before:]  # the kinds mark() counts
            if any(e.kind in ("sync", "redeploy", "fail") for e in new):
                return
            time.sleep(0.005)

    def settle(self, kind: str, before: int) -> None:
        """Wait until the engine reported the action the save caused (it is idle again): for the
        rebuild-class edit, a redeploy, or the live update and the image built behind it."""
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            new = self.timeline("sync", "redeploy", "fail", "build")[before:]
            if kind == "sync" and any(e.kind == "sync" for e in new):
                break
            if kind != "sync" and any(e.kind in ("redeploy", "fail") or
                                      (e.kind == "build" and "behind the live update" in e.message) for e in new):
                break
            time.sleep(0.05)
        time.sleep(0.3)

    def close(self) -> None:
        try:
            self.call(self.engine.stop(leave_running=True), timeout=60)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)

    def down(self) -> None:
        self.engine.backend.down(TENANT, True)


class ComposeWatchSide:
    """``docker compose watch`` on devenv's rendered file, with build + develop.watch for web."""

    name = "compose watch"

    def __init__(self, workdir: Path, root: Path, rendered: Path, base_ref: str) -> None:
        self.workdir = workdir
        self.root = root
        self.project = CW_PROJECT
        self.file = workdir / "compose.yaml"
        self.logfile = workdir / "watch.log"
        self.proc: subprocess.Popen[bytes] | None = None
        doc = yaml.safe_load(rendered.read_text())
        self.file.write_text(yaml.safe_dump(compose_watch_doc(doc, root, workdir, base_ref), sort_keys=False))

    def argv(self, *args: str) -> list[str]:
        return ["docker", "compose", "-p", self.project, "-f", str(self.file), *args]

    def start(self) -> None:
        run(self.argv("up", "-d", "--wait", "--wait-timeout", "600"))
        self.proc = start_watch(self.argv("watch", "--no-up"), self.logfile)

    def base_url(self) -> str:
        doc = yaml.safe_load(self.file.read_text())
        port = doc["services"]["web"]["ports"][0]["published"]
        return f"http://127.0.0.1:{port}"

    def mark(self) -> int:
        return 0

    def settle(self, kind: str, before: int) -> None:
        """Wait until compose watch's output has been quiet for 1 s (it acts and logs, then idles)."""
        wait_quiet(self.logfile, 1.0, 120)

    def close(self) -> None:
        stop_watch(self.proc)
        self.proc = None

    def down(self) -> None:
        run(self.argv("down", "-v", "--rmi", "local", "--timeout", "5"), check=False)


def compose_watch_doc(doc: dict[str, Any], root: Path, workdir: Path, base_ref: str) -> dict[str, Any]:
    """devenv's rendered compose file, re-labelled for another project, ports moved, and web built
    by compose from the same context with develop.watch mirroring devenv's rules."""
    doc.pop("name", None)
    label = {BENCH_LABEL: CW_PROJECT}
    for svc in doc["services"].values():
        svc["labels"] = dict(label)
        for p in svc.get("ports", []):
            p["published"] = str(int(p["published"]) + CW_PORT_OFFSET)
        if svc.get("env_file"):
            svc["env_file"] = [_copy_into(Path(f), workdir) for f in svc["env_file"]]
    for section in ("networks", "volumes"):
        for item in (doc.get(section) or {}).values():
            item.pop("name", None)
            item["labels"] = dict(label)
    web = doc["services"]["web"]
    web.pop("image", None)
    web.pop("pull_policy", None)
    ctx = root / "examples/shop/web"
    web["build"] = {"context": str(ctx), "args": {"BASE_IMAGE": base_ref}}
    web["develop"] = {"watch": [
        {"path": str(ctx / "templates"), "action": "sync", "target": "/srv/web/templates"},
        {"path": str(ctx / "static"), "action": "rebuild"},
    ]}
    return doc


def _copy_into(src: Path, workdir: Path) -> str:
    dest = workdir / src.name
    shutil.copy2(src, dest)
    return str(dest)


# -- subprocess plumbing ----------------------------------------------------------------------------

def run(argv: list[str], check: bool = True, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    cp = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if check and cp.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} exited {cp.returncode}:\n{cp.stdout[-2000:]}\n{cp.stderr[-2000:]}")
    return cp


def start_watch(argv: list[str], logfile: Path, ready_timeout: float = 120) -> subprocess.Popen[bytes]:
    """Start ``compose watch``; return once it says it watches."""
    out = logfile.open("wb")
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + ready_timeout
    while time.monotonic() < deadline:
        text = logfile.read_text(errors="replace").lower()
        if "watch enabled" in text:
            wait_quiet(logfile, 1.0, 30)
            return proc
        if proc.poll() is not None:
            raise RuntimeError(f"compose watch exited {proc.returncode}:\n{text[-2000:]}")
        time.sleep(0.1)
    stop_watch(proc)
    raise RuntimeError(f"compose watch never said 'watch enabled':\n{logfile.read_text(errors='replace')[-2000:]}")


def stop_watch(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def wait_quiet(logfile: Path, quiet: float, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    size, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now_size = logfile.stat().st_size if logfile.exists() else 0
        if now_size != size:
            size, since = now_size, time.monotonic()
        elif time.monotonic() - since >= quiet:
            return
        time.sleep(0.1)


# -- trials -----------------------------------------------------------------------------------------

Side = DevenvSide | ComposeWatchSide


@dataclass
class Results:
    served: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    restarted: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    started: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    missed: dict[tuple[str, str], int] = field(default_factory=dict)
    phases: dict[str, list[float]] = field(default_factory=dict)
    get_ms: dict[tuple[str, str], list[float]] = field(default_factory=dict)

    def add(self, key: tuple[str, str], t: Trial) -> None:
        if t.served is None:
            self.missed[key] = self.missed.get(key, 0) + 1
        else:
            self.served.setdefault(key, []).append(t.served)
            self.restarted.setdefault(key, []).append(t.restarted if t.restarted is not None else t.served)
        self.get_ms.setdefault(key, []).append(t.get_ms)
        if t.started is not None:
            self.started.setdefault(key, []).append(t.started)
        for name, ms in t.phases.items():
            self.phases.setdefault(f"{key[1]}: {name}", []).append(ms)


@dataclass(frozen=True)
class Trial:
    served: float | None
    restarted: float | None  # served by the process the action left running (see trial())
    started: float | None
    phases: dict[str, float]
    get_ms: float


def trial(side: Side, kind: str, i: int, tap: StartTap) -> Trial:
    marker = f"bench-{side.project}-{kind}-{i}-{uuid.uuid4().hex[:8]}"
    path, url_path, content = edit(side.root, kind, marker)
    before = side.mark()
    wall0 = time.time()
    t0 = time.perf_counter()
    path.write_text(content)
    served = poll_until(side.base_url() + url_path, marker, t0, TIMEOUTS[kind])
    restarted = None
    if isinstance(side, DevenvSide) and kind == "rebuild" and served is not None:
        # web reads static files per request, so the old process may serve the synced file before
        # the live update's restart: poll again once devenv reports the restart done (an upper bound
        # of "served by the restarted process"; compose watch's new container is the only server)
        side.wait_action(before)
        restarted = poll_until(side.base_url() + url_path, marker, t0, TIMEOUTS[kind])
    started = tap.ms_after(side.project, "web", wall0) if kind == "rebuild" else None
    side.settle(kind, before)
    phases = side.phases(t0) if isinstance(side, DevenvSide) else {}
    return Trial(served, restarted, started, phases, get_cost_ms(side.base_url() + url_path))


def run_trials(sides: list[Side], trials: int, tap: StartTap) -> Results:
    res = Results()
    for i in range(trials):
        order = sides if i % 2 == 0 else sides[::-1]
        for kind in ("sync", "rebuild"):
            for side in order:
                t = trial(side, kind, i, tap)
                res.add((side.name, kind), t)
                shown = f"{t.served:.0f} ms" if t.served is not None else "MISSED"
                shown += f" (restarted process {t.restarted:.0f} ms)" if t.restarted is not None else ""
                extra = {**t.phases, **({"start": t.started} if t.started is not None else {})}
                say(f"  trial {i + 1}/{trials} {side.name:13} {kind:7} {shown}"
                    + (" (" + ", ".join(f"{k} {v:.0f}" for k, v in extra.items()) + ")" if extra else ""))
    return res


# -- idle CPU ---------------------------------------------------------------------------------------

def make_tree(root: Path, files: int, per_dir: int = 100) -> None:
    for d in range((files + per_dir - 1) // per_dir):
        sub = root / f"d{d // 100:03d}" / f"d{d:05d}"
        sub.mkdir(parents=True, exist_ok=True)
        for f in range(min(per_dir, files - d * per_dir)):
            (sub / f"f{f:03d}.txt").write_text(f"{d}/{f}\n")


def idle_child(tree: Path) -> None:
    """Run in a subprocess: devenv's Watcher on ``tree`` until stdin closes."""
    from devenv.watch.observer import Watcher

    w = Watcher([tree], lambda batch: None)
    w.start()
    print(f"ready {w.dir_count()} dirs {w.file_count()} files", flush=True)
    sys.stdin.read()
    w.stop()


def start_devenv_idle(tree: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, __file__, "--idle-child", str(tree)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("ready"):
        raise RuntimeError(f"devenv's idle watcher did not start: {line!r}")
    return proc


def start_compose_idle(workdir: Path, tree: Path) -> tuple[list[str], subprocess.Popen[bytes]]:
    ctx = workdir / "ctx"
    ctx.mkdir(parents=True)
    (ctx / "Dockerfile").write_text('FROM debian:bookworm-slim\nCMD ["sleep", "infinity"]\n')
    doc = {"services": {"idle": {
        "build": {"context": str(ctx)}, "init": True, "labels": {BENCH_LABEL: IDLE_PROJECT},
        "develop": {"watch": [{"path": str(tree), "action": "sync", "target": "/tree"}]},
    }}}
    f = workdir / "compose.yaml"
    f.write_text(yaml.safe_dump(doc, sort_keys=False))
    argv = ["docker", "compose", "-p", IDLE_PROJECT, "-f", str(f)]
    run([*argv, "up", "-d", "--wait"])
    return argv, start_watch([*argv, "watch", "--no-up"], workdir / "watch.log", ready_timeout=600)


def measure_idle(pids: dict[str, int], seconds: float) -> dict[str, float]:
    """CPU seconds each process tree used over the same ``seconds`` window."""
    time.sleep(2)  # let start-up work finish
    before = {k: tree_cpu_seconds(p) for k, p in pids.items()}
    time.sleep(seconds)
    return {k: tree_cpu_seconds(p) - before[k] for k, p in pids.items()}


def idle_benchmark(tmp: Path, files: int, seconds: float) -> list[str]:
    tree = tmp / "tree"
    t0 = time.perf_counter()
    make_tree(tree, files)
    say(f"idle: made {files} files in {time.perf_counter() - t0:.1f} s")
    lines: list[str] = []
    with ExitStack() as stack:
        t0 = time.perf_counter()
        dev = start_devenv_idle(tree)
        stack.callback(_end_child, dev)
        dev_ready = time.perf_counter() - t0
        t0 = time.perf_counter()
        argv, cw = start_compose_idle(tmp / "idle", tree)
        stack.callback(lambda: run([*argv, "down", "-v", "--rmi", "local", "--timeout", "2"], check=False))
        stack.callback(stop_watch, cw)
        cw_ready = time.perf_counter() - t0
        say(f"idle: both watching; measuring {seconds:.0f} s")
        used = measure_idle({"devenv": dev.pid, "compose watch": cw.pid}, seconds)
    for name, ready in (("devenv", dev_ready), ("compose watch", cw_ready)):
        lines.append(f"idle CPU, {files:,} files, {seconds:.0f} s: {name:13} {used[name] * 1000:7.1f} CPU-ms "
                     f"({used[name] / seconds * 100:.2f} % of a core); watching after {ready:.1f} s")
    shown = f"{used['compose watch'] / used['devenv']:.1f}x" if used["devenv"] > 0 else "unbounded (devenv's watcher threads never ran in the window)"
    lines.append(f"idle CPU ratio: compose watch / devenv = {shown}")
    return lines


def _end_child(proc: subprocess.Popen[str]) -> None:
    if proc.stdin:
        proc.stdin.close()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


# -- report -----------------------------------------------------------------------------------------

def table(res: Results, sides: list[str]) -> list[str]:
    head = f"{'tool':14} {'action':8} {'P50 ms':>8} {'P10-P90 ms':>14} {'min-max ms':>14} {'n':>3} {'missed':>6}" \
           f" {'to start P50':>12} {'GET P50':>7} {'restarted P50':>13}"
    rows = [head, "-" * len(head)]
    for kind in ("sync", "rebuild"):
        for name in sides:
            s = summarise(res.served.get((name, kind), []))
            st = summarise(res.started.get((name, kind), []))
            g = summarise(res.get_ms.get((name, kind), []))
            miss = res.missed.get((name, kind), 0)
            if s is None:
                rows.append(f"{name:14} {kind:8} {'-':>8} {'-':>14} {'-':>14} {0:>3} {miss:>6}")
                continue
            rows.append(f"{name:14} {kind:8} {s.p50:8.0f} {f'{s.p10:.0f}-{s.p90:.0f}':>14} "
                        f"{f'{s.lo:.0f}-{s.hi:.0f}':>14} {s.n:>3} {miss:>6} "
                        f"{(f'{st.p50:.0f}' if st else '-'):>12} {(f'{g.p50:.0f}' if g else '-'):>7} "
                        f"{(f'{r.p50:.0f}' if (r := summarise(res.restarted.get((name, kind), []))) else '-'):>13}")
    return rows


def ratio_line(res: Results) -> str:
    """Served P50s against each other; for the rebuild-class edit, devenv's "served by the restarted
    process" (its slower figure) against compose watch's served (its only one)."""
    parts = []
    for kind in ("sync", "rebuild"):
        d = summarise((res.restarted if kind == "rebuild" else res.served).get(("devenv", kind), []))
        c = summarise(res.served.get(("compose watch", kind), []))
        if d is None or c is None:
            parts.append(f"{kind}: devenv - ms vs compose watch - ms (n/a)")
            continue
        parts.append(f"{kind}: devenv {d.p50:.0f} ms vs compose watch {c.p50:.0f} ms ({c.p50 / d.p50:.1f}x)")
    return "; ".join(parts)


# -- main -------------------------------------------------------------------------------------------

@contextmanager
def devenv_side(tmp: Path) -> Iterator[DevenvSide]:
    root = prepare_copy(tmp / "dev", DEV_APP, DEV_PORT_BASE)
    side = DevenvSide(root)
    try:
        side.down()  # a previous run that was killed
        t0 = time.perf_counter()
        side.start()
        say(f"devenv: {TENANT} up and watching in {time.perf_counter() - t0:.1f} s")
        yield side
    finally:
        side.close()
        side.down()


@contextmanager
def compose_side(tmp: Path, dev: DevenvSide) -> Iterator[ComposeWatchSide]:
    from devenv.build.graph import compute_tags

    root = prepare_copy(tmp / "cw", f"benchcwsrc{_ID}", DEV_PORT_BASE + CW_PORT_OFFSET)
    base_ref = compute_tags(dev.project_obj.app, images=["base"])["base"]
    rendered = dev.root / ".devenv" / TENANT / "compose.yaml"
    side = ComposeWatchSide(tmp / "cw", root, rendered, base_ref)
    try:
        side.down()
        t0 = time.perf_counter()
        side.start()
        say(f"compose watch: up and watching in {time.perf_counter() - t0:.1f} s")
        yield side
    finally:
        side.close()
        side.down()


def remove_dev_images() -> None:
    client = docker.from_env()
    for img in client.images.list(filters={"reference": f"devenv/{DEV_APP}-*"}):
        for tag in img.tags:
            if tag.startswith(f"devenv/{DEV_APP}-"):
                with contextlib.suppress(docker.errors.APIError):  # still in use: leave it
                    client.images.remove(tag)


def latency_benchmark(tmp: Path, trials: int) -> list[str]:
    os.environ["DEVENV_PROJECT_PREFIX"] = DEV_APP
    with devenv_side(tmp) as dev, compose_side(tmp, dev) as cw:
        tap = StartTap({dev.project, cw.project})
        try:
            say(f"latency: {trials} trials per tool and action; load average {loadavg()}")
            res = run_trials([dev, cw], trials, tap)
        finally:
            tap.close()
    return [*table(res, ["devenv", "compose watch"]), *phase_lines(res), "", ratio_line(res)]


def phase_lines(res: Results) -> list[str]:
    """Medians of when devenv reported each step, from the save (where its time goes)."""
    lines = []
    for kind, order in (("sync", ["synced"]),
                        ("rebuild", ["batch", "live update", "build start", "build end", "healthy"])):
        parts = [f"{k} {s.p50:.0f}" for k in order if (s := summarise(res.phases.get(f"{kind}: {k}", [])))]
        started = summarise(res.started.get(("devenv", kind), []))
        if started and kind == "rebuild":
            parts.insert(min(len(parts), 3), f"container start {started.p50:.0f}")
        if parts:
            lines.append(f"devenv {kind}, median ms from the save to its own report: {', '.join(parts)}")
    return lines


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--trials", type=int, default=20, help="trials per tool and action (default 20)")
    ap.add_argument("--quick", action="store_true", help="a smoke run: 5 trials, 10 s idle window")
    ap.add_argument("--idle-files", type=int, default=100_000)
    ap.add_argument("--idle-seconds", type=float, default=30.0)
    ap.add_argument("--skip-idle", action="store_true")
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--idle-child", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.idle_child:
        idle_child(args.idle_child)
        return 0
    trials = 5 if args.quick else args.trials
    idle_seconds = 10.0 if args.quick else args.idle_seconds
    started = time.strftime("%Y-%m-%d %H:%M:%S %z")
    load0 = loadavg()
    tmp = Path(tempfile.mkdtemp(prefix="devenv-bench-"))
    try:
        idle = [] if args.skip_idle else idle_benchmark(tmp, args.idle_files, idle_seconds)
        latency = [] if args.skip_latency else latency_benchmark(tmp, trials)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        remove_dev_images()
    print(f"inner loop benchmark, {started}; {os.cpu_count()} CPUs; "
          f"load average at start {load0}, at end {loadavg()}")
    print(f"save-to-served, polled every 10 ms from the save; {trials} trials per tool and action")
    for line in [*idle, *([""] if idle and latency else []), *latency]:
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
