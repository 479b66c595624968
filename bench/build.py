"""Benchmark: devenv's content-addressed builds against docker's own layer cache. Not a test.

On a private copy of the sample (under a unique app name, so its images never collide with anyone
else's and are removed at the end):

* cold build, no-op build, a one-file change in one component, a one-file change in the base;
* ``docker build`` (classic builder, same Dockerfile, context and build args) of the same images
  once devenv built them: docker's cache-hit cost, which is what a tool without content tags pays
  on every no-op;
* a synthetic 10,000-small-file context: digest cold/warm, devenv no-op, docker cache-hit build.

Run: ``.venv/bin/python bench/build.py [--trials N]``.
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
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench._common import copy_sample  # noqa: E402
from devenv.build import buildkit  # noqa: E402
from devenv.build.builder import Builder  # noqa: E402
from devenv.build.digest import DigestCache, context_digest  # noqa: E402
from devenv.model import load_project  # noqa: E402
from devenv.model.types import App, ImageDef  # noqa: E402


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def median_ms(fn: Callable[[], Any], trials: int) -> float:
    return statistics.median(timed(fn)[0] for _ in range(trials)) * 1000


def docker_cache_hit(app: App, image: str, refs: dict[str, str]) -> tuple[float, int]:
    """``docker build`` of one image with devenv's inputs; seconds and the steps it took from cache."""
    img = app.images[image]
    cmd = ["docker", "build", "-f", str(img.dockerfile), "-t", f"{refs[image].rsplit(':', 1)[0]}:dockercli"]
    args = dict(img.args)
    if img.parent:
        args[img.parent_arg] = refs[img.parent]
    for k, v in sorted(args.items()):
        cmd += ["--build-arg", f"{k}={v}"]
    if img.target:
        cmd += ["--target", img.target]
    cmd.append(str(img.context))
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    if buildkit.needs_buildkit(img.dockerfile.read_text()):  # RUN --mount: only BuildKit parses it
        cmd[0], env["DOCKER_BUILDKIT"] = buildkit.cli(), "1"
        cmd.insert(2, "--progress=plain")
    t0 = time.perf_counter()
    cp = subprocess.run(cmd, capture_output=True, text=True, env=env, check=True)
    out = cp.stdout + cp.stderr
    return time.perf_counter() - t0, out.count("Using cache") + out.count(" CACHED")


def touch_edit(path: Path) -> None:
    with path.open("a") as f:
        f.write(f"\n# bench edit {uuid.uuid4().hex}\n")


def built(results: dict[str, Any]) -> str:
    return ",".join(k for k, r in results.items() if r.status == "built") or "-"


def remove_images(prefix: str) -> None:
    """Only the tags this run created: other people share the engine."""
    out = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}", f"devenv/{prefix}-*"],
                         capture_output=True, text=True).stdout.split()
    if out:
        subprocess.run(["docker", "rmi", *out], capture_output=True)


def bench_sample(tmp: Path, trials: int, rows: list[tuple[str, str, str]]) -> None:
    name = f"bench{uuid.uuid4().hex[:8]}"
    root = copy_sample(tmp / "shop", name)
    project, _ = load_project(root)
    app = project.app
    builder = Builder(project)
    try:
        secs, res = timed(builder.build)
        rows.append(("sample: cold build (all images)", f"{secs * 1000:,.0f} ms", f"built {built(res)}"))
        noop = median_ms(builder.build, trials)
        rows.append(("sample: no-op build (devenv)", f"{noop:,.1f} ms", f"median of {trials}"))
        cache = DigestCache(root)
        warm = median_ms(lambda: [context_digest(i.context, i.dockerfile, cache) for i in app.images.values()], trials)
        rows.append(("sample: hash all contexts, warm", f"{warm:,.1f} ms", f"{len(app.images)} contexts"))

        refs = {k: r.ref for k, r in builder.build().items()}
        docker_total, cached_steps = 0.0, 0
        for image in refs:
            s, c = docker_cache_hit(app, image, refs)
            docker_total += s
            cached_steps += c
        rows.append(("sample: docker cache-hit builds (all)", f"{docker_total * 1000:,.0f} ms",
                     f"{cached_steps} steps from cache, sequential CLI runs"))
        rows.append(("  => no-op ratio", f"{docker_total * 1000 / noop:,.0f}x",
                     f"devenv {noop:,.1f} ms vs docker cache-hit {docker_total * 1000:,.0f} ms"))

        touch_edit(app.images["web"].context / "web" / "render.py")
        secs, res = timed(builder.build)
        rows.append(("sample: one file changed in web", f"{secs * 1000:,.0f} ms", f"built {built(res)}"))
        touch_edit(app.images["base"].context / "shoplib" / "log.py")
        secs, res = timed(builder.build)
        rows.append(("sample: one file changed in base", f"{secs * 1000:,.0f} ms", f"built {built(res)}"))
    finally:
        remove_images(name)


def bench_many_files(tmp: Path, trials: int, rows: list[tuple[str, str, str]], n: int = 10_000) -> None:
    name = f"bench{uuid.uuid4().hex[:8]}"
    root = tmp / "many"
    ctx = root / "ctx"
    for i in range(n):
        d = ctx / "src" / f"d{i // 100:03d}"
        if i % 100 == 0:
            d.mkdir(parents=True)
        (d / f"f{i:05d}.txt").write_text(f"file {i}\n")
    (ctx / "Dockerfile").write_text("FROM debian:bookworm-slim\nCOPY src /src\nRUN ls /src | wc -l\n")
    old = time.time() - 3600
    for p in ctx.rglob("*"):
        os.utime(p, (old, old))
    app = App(name, root, root / "devenv.yaml", {"many": ImageDef("many", ctx, ctx / "Dockerfile")}, {})

    cold, _ = timed(lambda: context_digest(ctx, ctx / "Dockerfile", DigestCache(root)))
    cache = DigestCache(root)
    context_digest(ctx, ctx / "Dockerfile", cache)
    cache.save()
    warm = median_ms(lambda: context_digest(ctx, ctx / "Dockerfile", DigestCache(root)), trials)
    rows.append((f"{n:,} files: hash cold", f"{cold * 1000:,.0f} ms", "reads every file"))
    rows.append((f"{n:,} files: hash warm", f"{warm:,.0f} ms", "stat only, cache from disk"))
    builder = Builder(app)
    try:
        secs, res = timed(builder.build)
        rows.append((f"{n:,} files: cold build", f"{secs * 1000:,.0f} ms", f"built {built(res)}"))
        noop = median_ms(builder.build, trials)
        rows.append((f"{n:,} files: no-op build (devenv)", f"{noop:,.0f} ms", f"median of {trials}"))
        refs = {"many": res["many"].ref}
        hits = [docker_cache_hit(app, "many", refs)[0] for _ in range(max(1, trials // 2))]
        dock = statistics.median(hits) * 1000
        rows.append((f"{n:,} files: docker cache-hit build", f"{dock:,.0f} ms", f"median of {len(hits)}"))
        rows.append(("  => no-op ratio", f"{dock / noop:,.0f}x", f"devenv {noop:,.0f} ms vs docker {dock:,.0f} ms"))
    finally:
        remove_images(name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=7)
    ap.add_argument("--skip-sample", action="store_true")
    ap.add_argument("--skip-many", action="store_true")
    args = ap.parse_args()
    rows: list[tuple[str, str, str]] = []
    with tempfile.TemporaryDirectory(prefix="devenv-bench-") as tmp:
        if not args.skip_sample:
            bench_sample(Path(tmp), args.trials, rows)
        if not args.skip_many:
            bench_many_files(Path(tmp), args.trials, rows)
    w0 = max(len(r[0]) for r in rows)
    w1 = max(len(r[1]) for r in rows)
    for a, b, c in rows:
        print(f"{a.ljust(w0)}  {b.rjust(w1)}  {c}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
