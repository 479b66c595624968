"""Benchmark: a dependency-change rebuild through BuildKit (cache mounts) against the classic builder. Not a test.

On a private copy of the sample (unique app name; its images are removed at the end), each trial
changes the base's dependency list (one more Debian package in its ``apt-get install`` line, a
different one per trial, so the step must run again) and builds the base with devenv, once with
BuildKit (the default where the engine has it: ``DEVENV_BUILDKIT=1``) and once with the classic
builder (``DEVENV_BUILDKIT=0``: the same Dockerfile with its ``RUN --mount`` flags dropped). Both
ways tag the image only on success; the figure is devenv's whole build of the base. With BuildKit,
apt's package lists and downloaded packages stay in cache mounts between builds, so the install
fetches only the new package; the classic builder fetches the lists and every package again.

Which way goes first alternates per trial. The first BuildKit build of the run fills the cache
mounts and is reported apart ("warm-up").

Run: ``.venv/bin/python bench/build_deps.py [--trials N]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._common import copy_sample, loadavg, summarise  # noqa: E402
from devenv.build.builder import Builder  # noqa: E402
from devenv.model import load_project  # noqa: E402

PACKAGES = ["python3-yaml", "python3-six", "python3-idna", "python3-certifi", "python3-chardet",
            "python3-urllib3", "python3-simplejson", "python3-dateutil"]
INSTALL = "python3-psycopg2 python3-redis"


def build_base(root: Path, buildkit: bool) -> tuple[float, str]:
    os.environ["DEVENV_BUILDKIT"] = "1" if buildkit else "0"
    project, _ = load_project(root)
    t0 = time.perf_counter()
    res = Builder(project).build(["base"])["base"]
    return time.perf_counter() - t0, res.method


def set_packages(root: Path, extra: str) -> None:
    df = root / "examples/shop/base/Dockerfile"
    text = df.read_text()
    start = text.index(INSTALL)
    end = text.index(" \\", start)
    df.write_text(text[:start] + INSTALL + (f" {extra}" if extra else "") + text[end:])


def remove_images(app: str) -> None:
    out = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", f"devenv/{app}-*"],
                         capture_output=True, text=True).stdout.split()
    if out:
        subprocess.run(["docker", "rmi", *out], capture_output=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--trials", type=int, default=2)
    args = ap.parse_args()
    app = f"benchdeps{uuid.uuid4().hex[:6]}"
    tmp = Path(tempfile.mkdtemp(prefix="devenv-bench-deps-"))
    load0 = loadavg()
    root = copy_sample(tmp / "shop", app, 39000)
    times: dict[str, list[float]] = {"buildkit": [], "classic": []}
    try:
        set_packages(root, "")
        warm, method = build_base(root, True)
        print(f"warm-up ({method}, fills the cache mounts): {warm:.1f} s", file=sys.stderr, flush=True)
        for i in range(args.trials):
            order = [True, False] if i % 2 == 0 else [False, True]
            for n, kit in enumerate(order):
                set_packages(root, PACKAGES[(2 * i + n) % len(PACKAGES)])
                secs, method = build_base(root, kit)
                times["buildkit" if kit else "classic"].append(secs * 1000)
                print(f"  trial {i + 1}: {method:8} {secs:6.1f} s", file=sys.stderr, flush=True)
    finally:
        remove_images(app)
        subprocess.run(["rm", "-rf", str(tmp)])
    print(f"dependency-change rebuild of the sample's base, {time.strftime('%Y-%m-%d %H:%M:%S %z')}; "
          f"{os.cpu_count()} CPUs; load average at start {load0}, at end {loadavg()}")
    print(f"warm-up BuildKit build (empty cache mounts): {warm:.1f} s")
    for name, values in times.items():
        s = summarise(values)
        if s:
            print(f"{name:9} P50 {s.p50 / 1000:6.1f} s  min-max {s.lo / 1000:.1f}-{s.hi / 1000:.1f} s  n={s.n}")
    kit, classic = summarise(times["buildkit"]), summarise(times["classic"])
    if kit and classic:
        print(f"BuildKit {kit.p50 / 1000:.1f} s vs classic {classic.p50 / 1000:.1f} s ({classic.p50 / kit.p50:.1f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
