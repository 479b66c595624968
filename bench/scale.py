"""Benchmark: N tenants of the sample on one laptop, devenv against ``docker compose up -d`` of the
same rendered files. Not a test, and heavy: run it once, not in a loop (it starts N x 6 containers).

On a private copy of the sample (its own app name, compose project prefix and free port range) the
benchmark writes N profiles, copies of ``acme`` with their own names and namespaces (``t01`` ...),
builds the images once, then for each side in turn, from no containers and no volumes:

* time to healthy: ``devenv up --tenant t01,...,tNN --detach`` (returns once every component of
  every tenant is healthy), against the N ``docker compose -p <project> -f .devenv/<tenant>/compose.yaml
  up -d`` started together, timed until every container is healthy (or running, without a check);
* memory: the containers' usage (``docker stats``);
* idle CPU over a window once healthy: the containers' own CPU (their cgroups), the Docker engine's
  (dockerd, containerd and the containers' shims, where health-check execs are paid), and the
  whole machine's busy fraction (shared: other people's work shows there too).

Everything it created (containers, networks, volumes of its own app, its images, the copy) is
removed at the end; nothing else is touched.

Run: ``.venv/bin/python bench/scale.py [--tenants 10] [--idle 30]``.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._common import copy_sample, loadavg  # noqa: E402
from bench.cli import DEVENV, free_port_base, run_env  # noqa: E402

ENGINE_PROCS = ("dockerd", "containerd")


def make_tenants(root: Path, n: int) -> list[str]:
    """N copies of acme's profile (own tenant name, namespace, node label and domain); the other
    profiles and the overlay's per-tenant section go, so the copy runs exactly these."""
    acme = (root / "profiles" / "acme.yaml").read_text()
    for f in (root / "profiles").glob("*.yaml"):
        f.unlink()
    names = [f"t{i:02d}" for i in range(1, n + 1)]
    for name in names:
        text = re.sub(r"\bacme\b(?!-payments)", name, acme)
        (root / "profiles" / f"{name}.yaml").write_text(text)
    app = root / "devenv.yaml"
    app.write_text(re.sub(r"default_tenants: \[.*\]", f"default_tenants: [{names[0]}]", app.read_text()))
    local = root / "devenv.local.yaml"
    local.write_text(local.read_text().split("\ntenants:")[0] + "\n")
    return names


def containers(app: str) -> list[dict[str, str]]:
    out = subprocess.run(["docker", "ps", "-a", "--filter", f"label=dev.devenv.project={app}", "--format",
                          "{{json .}}"], capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def all_ready(rows: list[dict[str, str]], expected: int) -> bool:
    """Every container up and healthy (or up without a check)."""
    if len(rows) < expected:
        return False
    return all(r.get("State") == "running" and "starting" not in r.get("Status", "")
               and "unhealthy" not in r.get("Status", "") for r in rows)


def compose_up(root: Path, env: dict[str, str], app: str, tenants: list[str], expected: int, timeout: float) -> float:
    t0 = time.perf_counter()
    procs = [subprocess.Popen(["docker", "compose", "-p", f"{app}-{t}", "-f", str(root / ".devenv" / t / "compose.yaml"),
                               "up", "-d"], env=env, cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for t in tenants]
    while time.perf_counter() - t0 < timeout:
        if all(p.poll() is not None for p in procs) and all_ready(containers(app), expected):
            break
        time.sleep(0.5)
    else:
        raise SystemExit("docker compose: not every container healthy in time")
    bad = [p for p in procs if p.returncode != 0]
    if bad:
        raise SystemExit(f"docker compose up failed: {bad[0].stderr.read().decode()[-1500:] if bad[0].stderr else ''}")
    return time.perf_counter() - t0


def devenv_up(root: Path, env: dict[str, str], tenants: list[str], timeout: float) -> float:
    t0 = time.perf_counter()
    cp = subprocess.run([DEVENV, "up", "--tenant", ",".join(tenants), "--detach", "--timeout", str(timeout)],
                        env=env, cwd=root, capture_output=True, text=True)
    if cp.returncode != 0:
        raise SystemExit(f"devenv up failed:\n{cp.stderr[-3000:]}")
    return time.perf_counter() - t0


def cgroup_cpu_ns(cid: str) -> int:
    for path in (f"/sys/fs/cgroup/cpuacct/docker/{cid}/cpuacct.usage",
                 f"/sys/fs/cgroup/system.slice/docker-{cid}.scope/cpu.stat", f"/sys/fs/cgroup/docker/{cid}/cpu.stat"):
        try:
            text = Path(path).read_text()
        except OSError:
            continue
        if path.endswith("cpuacct.usage"):
            return int(text)
        m = re.search(r"usage_usec (\d+)", text)
        return int(m.group(1)) * 1000 if m else 0
    return 0


def engine_pids(ids: list[str]) -> list[int]:
    """dockerd, containerd, and the shims of these containers (health-check execs run under them)."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            comm = (d / "comm").read_text().strip()
            cmd = (d / "cmdline").read_bytes().decode(errors="replace") if comm.startswith("containerd-shim") else ""
        except OSError:
            continue
        if comm in ENGINE_PROCS or (cmd and any(i in cmd for i in ids)):
            pids.append(int(d.name))
    return pids


def proc_cpu_ticks(pid: int) -> int:
    """utime + stime + cutime + cstime: reaped children (runc, the exec'd checks) count too."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return sum(int(x) for x in fields[11:15])
    except (OSError, IndexError, ValueError):
        return 0


def machine_ticks() -> tuple[int, int]:
    vals = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return sum(vals), vals[3] + vals[4]


def idle_cpu(app: str, seconds: float) -> tuple[float, float, float]:
    """(containers' cores, engine's cores, machine busy fraction) over ``seconds`` of idling."""
    ids = [r["ID"] for r in containers(app)]
    full = {i: next((d.name for d in Path("/sys/fs/cgroup/cpuacct/docker").glob(f"{i}*")), i)
            for i in ids} if Path("/sys/fs/cgroup/cpuacct/docker").is_dir() else {i: i for i in ids}
    if not Path("/sys/fs/cgroup/cpuacct/docker").is_dir():
        out = subprocess.run(["docker", "inspect", "--format", "{{.Id}}", *ids], capture_output=True, text=True).stdout
        full = dict(zip(ids, out.split(), strict=False))
    pids = engine_pids(list(full.values()))
    hz = os.sysconf("SC_CLK_TCK")
    c0, e0, (t0, i0), w0 = (sum(cgroup_cpu_ns(c) for c in full.values()), sum(proc_cpu_ticks(p) for p in pids),
                            machine_ticks(), time.perf_counter())
    time.sleep(seconds)
    c1, e1, (t1, i1), w1 = (sum(cgroup_cpu_ns(c) for c in full.values()), sum(proc_cpu_ticks(p) for p in pids),
                            machine_ticks(), time.perf_counter())
    wall = w1 - w0
    busy = 1 - (i1 - i0) / max(1, t1 - t0)
    return (c1 - c0) / 1e9 / wall, (e1 - e0) / hz / wall, busy


def memory_mib(app: str) -> float:
    ids = [r["ID"] for r in containers(app)]
    out = subprocess.run(["docker", "stats", "--no-stream", "--format", "{{.MemUsage}}", *ids],
                         capture_output=True, text=True).stdout
    total = 0.0
    units = {"B": 1 / 2**20, "KiB": 1 / 1024, "MiB": 1.0, "GiB": 1024.0, "kB": 1 / 1024, "MB": 1.0, "GB": 1024.0}
    for line in out.splitlines():
        m = re.match(r"\s*([\d.]+)\s*([A-Za-z]+)", line)
        if m:
            total += float(m.group(1)) * units.get(m.group(2), 1.0)
    return total


def measure(label: str, app: str, seconds: float, took: float) -> dict[str, float | str]:
    time.sleep(5)  # let the last starts settle
    mem = memory_mib(app)
    ours, engine, busy = idle_cpu(app, seconds)
    n = len(containers(app))
    print(f"{label}: healthy in {took:,.1f} s; {n} containers; memory {mem:,.0f} MiB; idle CPU: containers "
          f"{ours * 100:.1f}% of a core, engine {engine * 100:.1f}% of a core, machine {busy * 100:.0f}% busy", flush=True)
    return {"label": label, "seconds": took, "containers": n, "mem": mem, "cpu": ours, "engine": engine, "busy": busy}


def remove_all(root: Path, env: dict[str, str], app: str, tenants: list[str]) -> None:
    """This run's containers, networks and volumes (compose projects <app>-<tenant>), then images."""
    for t in tenants:
        f = root / ".devenv" / t / "compose.yaml"
        if f.exists():
            subprocess.run(["docker", "compose", "-p", f"{app}-{t}", "-f", str(f), "down", "--volumes", "--timeout", "2"],
                           env=env, cwd=root, capture_output=True)
    subprocess.run([DEVENV, "down", "--tenant", ",".join(tenants), "--volumes"], env=env, cwd=root, capture_output=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tenants", type=int, default=10)
    ap.add_argument("--idle", type=float, default=30, help="seconds of idle CPU measurement (default 30)")
    ap.add_argument("--timeout", type=float, default=900, help="seconds allowed to get healthy")
    args = ap.parse_args()
    app = f"benchscale{uuid.uuid4().hex[:6]}"
    tmp = Path(tempfile.mkdtemp(prefix="devenv-bench-scale-"))
    root = copy_sample(tmp / "shop", app, free_port_base(20 * args.tenants))
    tenants = make_tenants(root, args.tenants)
    env = run_env(root, app)
    print(f"{args.tenants} tenants of the sample ({app}), {os.cpu_count()} CPUs, load average {loadavg()}", flush=True)
    results = []
    try:
        subprocess.run([DEVENV, "build", "--tenant", ",".join(tenants), "-q"], env=env, cwd=root, check=True,
                       stdout=subprocess.DEVNULL)
        took = devenv_up(root, env, tenants, args.timeout)
        expected = len(containers(app))
        results.append(measure("devenv up --detach", app, args.idle, took))
        subprocess.run([DEVENV, "down", "--tenant", ",".join(tenants), "--volumes"], env=env, cwd=root,
                       capture_output=True, check=True)
        took = compose_up(root, env, app, tenants, expected, args.timeout)
        results.append(measure("docker compose up -d (same files)", app, args.idle, took))
    finally:
        remove_all(root, env, app, tenants)
        tags = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", f"devenv/{app}-*"],
                              capture_output=True, text=True).stdout.split()
        if tags:
            subprocess.run(["docker", "rmi", *tags], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
    if len(results) == 2:
        ours, peer = results
        print(f"time to healthy: devenv {ours['seconds']:,.1f} s vs compose {peer['seconds']:,.1f} s "
              f"({float(peer['seconds']) / float(ours['seconds']):.2f}x)")
    print(f"load average after: {loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
