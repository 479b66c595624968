"""Benchmark: devenv's CLI as whole commands against its Docker peers, in one run. Not a test.

On a private copy of the sample (its own app name, compose project prefix and free port range;
everything it creates is removed at the end), with tenant ``acme`` up and healthy:

* ``devenv status --json`` (and plain) against ``docker ps``;
* a no-op ``devenv up --tenant acme --detach`` against ``docker compose up -d`` of the same rendered
  file (``.devenv/acme/compose.yaml``, same project name);
* a no-op ``devenv build --tenant acme`` against docker's cache-hit builds of the same images
  (``docker build`` of each, with devenv's Dockerfile, context and build args; all steps cached).

Each command runs as a whole process, like hyperfine: one warm-up, then the median of N runs, in
this process, one pair after the other. ``PYTHONDONTWRITEBYTECODE`` is unset for every command
(this environment sets it, which makes every Python start recompile devenv: ~0.2 s).

Run: ``.venv/bin/python bench/cli.py [--trials N]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._common import copy_sample, loadavg  # noqa: E402

DEVENV = str(Path(sys.executable).with_name("devenv"))


def free_port_base(span: int, start: int = 33000, stop: int = 60000) -> int:
    """The first base whose ``span`` ports are all free on 127.0.0.1 (the sample's three tenants)."""
    from devenv.netutil import port_free

    for base in range(start, stop, span):
        if all(port_free(p, "127.0.0.1") for p in range(base, base + span)):
            return base
    raise SystemExit("no free port range found")


def run_env(root: Path, prefix: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env.update(DEVENV_ROOT=str(root), DEVENV_PROJECT_PREFIX=prefix, NO_COLOR="1")
    return env


def once(argv: Sequence[str], env: dict[str, str], cwd: Path) -> float:
    t0 = time.perf_counter()
    cp = subprocess.run(list(argv), env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    took = time.perf_counter() - t0
    if cp.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({cp.returncode}):\n{cp.stderr[-2000:]}")
    return took


def median_ms(commands: list[Sequence[str]], env: dict[str, str], cwd: Path, trials: int) -> float:
    """One warm-up, then the median over ``trials`` of running ``commands`` one after the other."""
    for argv in commands:
        once(argv, env, cwd)
    return statistics.median(sum(once(argv, env, cwd) for argv in commands) for _ in range(trials)) * 1000


def docker_build_argv(root: Path, image: str, refs: dict[str, str]) -> list[str]:
    """``docker build`` of one image with devenv's own inputs (the classic builder: BuildKit builds
    with RUN cache mounts switch the CLI, as bench/build.py does)."""
    from devenv.build import buildkit
    from devenv.model import load_project

    img = load_project(root)[0].app.images[image]
    front = ["env", "DOCKER_BUILDKIT=0", "docker"]
    if buildkit.needs_buildkit(img.dockerfile.read_text()):  # RUN --mount: only BuildKit parses it
        front = ["env", "DOCKER_BUILDKIT=1", buildkit.cli()]
    argv = [*front, "build", "-q", "-f", str(img.dockerfile), "-t", f"{refs[image].rsplit(':', 1)[0]}:dockercli"]
    args = dict(img.args)
    if img.parent:
        args[img.parent_arg] = refs[img.parent]
    for k, v in sorted(args.items()):
        argv += ["--build-arg", f"{k}={v}"]
    if img.target:
        argv += ["--target", img.target]
    return [*argv, str(img.context)]


def built_refs(root: Path, env: dict[str, str]) -> dict[str, str]:
    import json

    out = subprocess.run([DEVENV, "build", "--tenant", "acme", "--json", "-q"], env=env, cwd=root,
                         capture_output=True, text=True, check=True).stdout
    return {r["image"]: r["tag"] for r in json.loads(out)}


def cleanup(root: Path, env: dict[str, str], app: str) -> None:
    """Only what this run created: its tenant (containers, networks, volumes) and its images."""
    subprocess.run([DEVENV, "down", "--tenant", "acme", "--volumes"], env=env, cwd=root, capture_output=True)
    tags = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", f"devenv/{app}-*"],
                          capture_output=True, text=True).stdout.split()
    if tags:
        subprocess.run(["docker", "rmi", *tags], capture_output=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=10, help="runs per command after a warm-up (default 10)")
    ap.add_argument("--build-trials", type=int, default=3, help="runs of the build pair (docker's takes seconds)")
    args = ap.parse_args()
    app = f"benchcli{uuid.uuid4().hex[:6]}"
    tmp = Path(tempfile.mkdtemp(prefix="devenv-bench-cli-"))
    root = copy_sample(tmp / "shop", app, free_port_base(60))
    env = run_env(root, app)
    was = os.environ.get("PYTHONDONTWRITEBYTECODE")
    print(f"devenv CLI benchmark: {app}, load average {loadavg()}, {os.cpu_count()} CPUs; "
          f"PYTHONDONTWRITEBYTECODE unset for every command (was {was!r}); medians of {args.trials} "
          f"runs after a warm-up (builds: {args.build_trials})", flush=True)
    try:
        print("setting up: build + up acme ...", flush=True)
        once([DEVENV, "up", "--tenant", "acme", "--detach"], env, root)
        pairs(root, env, app, args)
    finally:
        cleanup(root, env, app)
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average after: {loadavg()}")
    return 0


def row(what: str, ours: float, peer: float, ratio: str) -> None:
    print(f"{what:<58}  devenv {ours:>8,.0f} ms   peer {peer:>8,.0f} ms   {ratio}", flush=True)


def pairs(root: Path, env: dict[str, str], app: str, args: argparse.Namespace) -> None:
    n = args.trials
    compose = ["docker", "compose", "-p", f"{app}-acme", "-f", str(root / ".devenv" / "acme" / "compose.yaml"), "up", "-d"]
    ps = median_ms([["docker", "ps"]], env, root, n)
    for argv in ([DEVENV, "status", "--json"], [DEVENV, "status"]):
        ours = median_ms([argv], env, root, n)
        row(f"{' '.join(['devenv', *argv[1:]])} vs docker ps", ours, ps, f"{ours / ps:.1f}x docker ps (target <= 3x)")
    up = median_ms([[DEVENV, "up", "--tenant", "acme", "--detach"]], env, root, n)
    peer = median_ms([compose], env, root, n)
    row("no-op up --tenant acme --detach vs docker compose up -d", up, peer, f"{peer / up:.2f}x faster (target >= 1x)")
    refs = built_refs(root, env)
    build = median_ms([[DEVENV, "build", "--tenant", "acme", "-q"]], env, root, args.build_trials)
    docker = median_ms([docker_build_argv(root, i, refs) for i in sorted(refs)], env, root, args.build_trials)
    row(f"no-op build ({len(refs)} images) vs docker cache-hit builds", build, docker,
        f"{docker / build:.1f}x faster (target >= 5x)")


if __name__ == "__main__":
    sys.exit(main())
