"""Benchmark: ``devenv data snapshot``/``restore`` against plain ``docker run --rm -v VOL:/v IMAGE tar``
of the same volumes, in one run. Not a test.

On a private copy of the sample (its own app name, compose prefix and ports; only its Postgres and
Redis run), one tenant gets ~100 MB of rows in Postgres. Each trial then times:

* devenv: the real CLI, ``devenv data snapshot`` and ``devenv data restore --yes`` (consistent: the
  services are stopped for the copy and started and waited for again; digests verified);
* the peer: what a careful user types by hand for the same consistency: ``docker stop`` the two
  services, ``docker run --rm -v VOL:/v <the service's own image> tar`` per volume (``cf`` to a file,
  or ``rm -rf`` and ``xf`` from it), ``docker start`` them again (no health wait).

Run: ``.venv/bin/python bench/data.py [--trials N] [--mb 100]``. Everything it created is removed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._common import copy_sample  # noqa: E402

DOCKER = "/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker"


def sh(*argv: str, env: dict[str, str] | None = None, stdin: int | None = None, stdout: int | None = None) -> None:
    subprocess.run(argv, check=True, env=env, stdin=stdin, stdout=stdout if stdout is not None else subprocess.DEVNULL,
                   stderr=subprocess.PIPE)


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


class Stack:
    def __init__(self, root: Path, app: str) -> None:
        self.root, self.app, self.prefix = root, app, app
        self.env = {**os.environ, "DEVENV_ROOT": str(root), "DEVENV_PROJECT_PREFIX": app, "NO_COLOR": "1"}
        self.env.pop("PYTHONDONTWRITEBYTECODE", None)

    def devenv(self, *args: str) -> None:
        sh(sys.executable, "-m", "devenv.cli", *args, env=self.env)

    def name(self, comp: str) -> str:
        return f"{self.prefix}-acme-{comp}-1"

    def volume(self, key: str) -> str:
        return f"{self.prefix}-acme_{key}"

    def image(self, comp: str) -> str:
        out = subprocess.run([DOCKER, "inspect", "-f", "{{.Image}}", self.name(comp)], check=True,
                             capture_output=True, text=True)
        return out.stdout.strip()


PAIRS = (("postgres", "pgdata"), ("redis", "redisdata"))


def peer_snapshot(s: Stack, out: Path) -> None:
    sh(DOCKER, "stop", *(s.name(c) for c, _ in PAIRS))
    for comp, key in PAIRS:
        with (out / f"{key}.tar").open("wb") as f:
            sh(DOCKER, "run", "--rm", "-v", f"{s.volume(key)}:/v", "--entrypoint", "tar", s.image(comp),
               "cf", "-", "-C", "/v", ".", stdout=f.fileno())
    sh(DOCKER, "start", *(s.name(c) for c, _ in PAIRS))


def peer_restore(s: Stack, src: Path) -> None:
    sh(DOCKER, "stop", *(s.name(c) for c, _ in PAIRS))
    for comp, key in PAIRS:
        with (src / f"{key}.tar").open("rb") as f:
            sh(DOCKER, "run", "--rm", "-i", "-v", f"{s.volume(key)}:/v", "--entrypoint", "sh", s.image(comp), "-c",
               "find /v -mindepth 1 -delete && tar xf - -C /v", stdin=f.fileno())
    sh(DOCKER, "start", *(s.name(c) for c, _ in PAIRS))


def fill(s: Stack, mb: int) -> None:
    rows = mb * 1024  # ~1 KB a row
    sql = (f"CREATE TABLE IF NOT EXISTS blob AS SELECT i, repeat(md5(i::text), 32) AS pad "
           f"FROM generate_series(1, {rows}) i; CHECKPOINT;")
    sh(DOCKER, "exec", s.name("postgres"), "psql", "-X", "-q", "-U", "shop", "-d", "shop", "-c", sql)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--mb", type=int, default=100, help="rows to put in Postgres, in MB (default 100)")
    args = ap.parse_args()
    app = f"bd{uuid.uuid4().hex[:6]}"
    with tempfile.TemporaryDirectory(prefix="bench-data-") as tmp:
        root = copy_sample(Path(tmp) / "shop", app, port_base=36000 + (os.getpid() % 50) * 60)
        local = root / "devenv.local.yaml"
        local.write_text(local.read_text().replace("defaults:\n", "defaults:\n  disable: [web, api, worker, scheduler]\n", 1))
        s = Stack(root, app)
        try:
            return run(s, args, Path(tmp))
        finally:
            subprocess.run([sys.executable, "-m", "devenv.cli", "down", "--tenant", "acme", "--volumes"], env=s.env,
                           capture_output=True)
            refs = subprocess.run([DOCKER, "images", "--format", "{{.Repository}}:{{.Tag}}"],
                                  capture_output=True, text=True).stdout.split()
            for ref in refs:  # only this run's tags (its unique app name)
                if ref.startswith(f"devenv/{app}-"):
                    subprocess.run([DOCKER, "rmi", ref], capture_output=True)


def run(s: Stack, args: argparse.Namespace, tmp: Path) -> int:
    print(f"bringing up the sample's Postgres + Redis as {s.app} ...", file=sys.stderr)
    s.devenv("up", "--tenant", "acme", "--detach", "--timeout", "900")
    fill(s, args.mb)
    times: dict[str, list[float]] = {"devenv snapshot": [], "peer snapshot": [], "devenv restore": [],
                                     "peer restore": []}
    for i in range(args.trials):
        peer_dir = tmp / f"peer{i}"
        peer_dir.mkdir()
        times["devenv snapshot"].append(timed(lambda i=i: s.devenv("data", "snapshot", "--tenant", "acme", f"b{i}")))
        times["peer snapshot"].append(timed(lambda d=peer_dir: peer_snapshot(s, d)))
        times["devenv restore"].append(timed(lambda i=i: s.devenv("data", "restore", "--tenant", "acme", f"b{i}",
                                                                 "--yes")))
        times["peer restore"].append(timed(lambda d=peer_dir: peer_restore(s, d)))
    size = sum(p.stat().st_size for p in (tmp / "peer0").iterdir()) / (1 << 20)
    print(f"\nvolumes: {size:.0f} MB; median of {args.trials} trial(s); devenv includes the health wait")
    print(f"{'':<10}{'devenv':>10}{'docker run tar':>16}{'ratio':>8}")
    for what in ("snapshot", "restore"):
        ours, peer = statistics.median(times[f"devenv {what}"]), statistics.median(times[f"peer {what}"])
        print(f"{what:<10}{ours:>9.2f}s{peer:>15.2f}s{ours / peer:>7.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
