"""Benchmark: replacing a container on a new image, Compose's recreate against the engine API. Not a test.

A redeploy (a rebuild's last step) replaces each changed component's container. devenv runs
``docker compose up -d --no-deps --timeout 2 <svc>`` (the plugin binary, see ``dockerclient``).
The engine API could do the same with fewer round trips, but only if the container it makes is
the one Compose would make: Compose's labels, including ``com.docker.compose.config-hash``, or the
next ``docker compose up`` / ``devenv up`` would recreate it again (idempotence). This measures,
in one run on one engine, on one tiny service (Debian, a shell loop that exits on SIGTERM, so the
stop costs what the engine costs, not what an app's shutdown costs):

* compose: ``compose up -d --no-deps --timeout 2 svc`` after the image changed (a real recreate);
* api, Compose's order: stop old, create new (old config, new image, the hash Compose computes
  for the new file), remove old, rename new, start new;
* api, create first: create new under a temporary name while the old one runs, stop old, start
  new, remove old, rename new (the shortest gap without a listener, same result);
* hash: ``compose config --hash svc``, what the API path must pay to keep Compose's hash exact
  (unless devenv computed the hash itself: Compose's hash is a digest of its own in-memory service
  model, so mirroring it would re-implement compose-go's normalisation);
* noop: ``compose up -d --no-deps svc`` when nothing changed (Compose's fixed cost: load the
  project, list containers, compare hashes).

Run: ``.venv/bin/python bench/recreate.py [--trials N]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import docker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import loadavg, summarise  # noqa: E402
from devenv import dockerclient  # noqa: E402

PROJECT = f"benchrecreate{os.environ.get('BENCH_ID', '')}"
IMAGE = f"devenv/{PROJECT}-svc"
LOOP = "trap 'exit 0' TERM; while true; do sleep 1; done"


def compose(workdir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [*dockerclient.compose_argv(), "-p", PROJECT, "-f", str(workdir / "compose.yaml"), *args]
    cp = subprocess.run(argv, capture_output=True, text=True, timeout=300)
    if cp.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {cp.stderr[-1500:]}")
    return cp


def write_file(workdir: Path, tag: str) -> None:
    doc = {"services": {"svc": {
        "image": f"{IMAGE}:{tag}", "command": ["sh", "-c", LOOP], "restart": "unless-stopped",
        "environment": {"A": "1"}, "labels": {"dev.devenv.bench": PROJECT},
    }}}
    (workdir / "compose.yaml").write_text(json.dumps(doc))


def make_images(client: Any, n: int) -> list[str]:
    """``n`` distinct tags (one file each) on the local base: every trial changes the image."""
    tags = []
    for i in range(n):
        tag = f"t{i}"
        df = f"FROM debian:bookworm-slim\nRUN echo {i} > /version\n"
        with tempfile.TemporaryDirectory() as ctx:
            Path(ctx, "Dockerfile").write_text(df)
            client.images.build(path=ctx, tag=f"{IMAGE}:{tag}", rm=True)
        tags.append(tag)
    return tags


def the_container(client: Any) -> Any:
    [c] = client.containers.list(all=True, filters={"label": [f"com.docker.compose.project={PROJECT}"]})
    return c


def api_replace(client: Any, workdir: Path, tag: str, create_first: bool) -> None:
    """Replace the service's container through the API with Compose's own labels and hash."""
    write_file(workdir, tag)
    new_hash = compose(workdir, "config", "--hash", "svc").stdout.split()[-1]
    old = the_container(client)
    api = client.api
    attrs = api.inspect_container(old.id)
    image_id = api.inspect_image(f"{IMAGE}:{tag}")["Id"]
    labels = {**attrs["Config"]["Labels"], "com.docker.compose.config-hash": new_hash,
              "com.docker.compose.image": image_id}  # Compose recreates when either differs
    host_config = {k: v for k, v in attrs["HostConfig"].items() if v not in (None, [], {})}
    networking = {"EndpointsConfig": {name: {"Aliases": ep.get("Aliases")}
                                      for name, ep in attrs["NetworkSettings"]["Networks"].items()}}
    body = {**attrs["Config"], "Image": f"{IMAGE}:{tag}", "Labels": labels, "HostConfig": host_config,
            "NetworkingConfig": networking, "Hostname": None}
    body = {k: v for k, v in body.items() if v is not None}
    name = attrs["Name"].lstrip("/")
    temp = f"{old.id[:12]}_{name}"

    def create() -> str:
        res = api.post(api._url("/containers/create"), params={"name": temp}, data=json.dumps(body),
                       headers={"Content-Type": "application/json"})
        return str(api._result(res, True)["Id"])

    if create_first:
        new = create()
        api.stop(old.id, timeout=2)
        api.start(new)
    else:
        api.stop(old.id, timeout=2)
        new = create()
    api.remove_container(old.id)
    api.rename(new, name)
    if not create_first:
        api.start(new)


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--trials", type=int, default=10)
    args = ap.parse_args()
    client = docker.from_env()
    workdir = Path(tempfile.mkdtemp(prefix="devenv-bench-recreate-"))
    load0 = loadavg()
    tags = make_images(client, 2)
    results: dict[str, list[float]] = {k: [] for k in ("compose", "api (compose's order)", "api (create first)",
                                                       "hash", "noop")}
    try:
        write_file(workdir, tags[0])
        compose(workdir, "up", "-d", "--no-deps", "svc")
        n = 0
        for _ in range(args.trials):
            for kind in ("compose", "api (compose's order)", "api (create first)"):
                n += 1
                tag = tags[n % 2]
                if kind == "compose":
                    write_file(workdir, tag)
                    ms = timed(lambda: compose(workdir, "up", "-d", "--no-deps", "--timeout", "2", "svc"))
                else:
                    first = kind == "api (create first)"
                    ms = timed(partial(api_replace, client, workdir, tag, first))
                results[kind].append(ms)
                # idempotence: Compose sees nothing to do after either path
                noop = compose(workdir, "up", "-d", "--no-deps", "svc")
                assert "Recreate" not in noop.stderr, f"{kind} left a container Compose recreates: {noop.stderr}"
                assert the_container(client).attrs["Config"]["Image"] == f"{IMAGE}:{tag}"
            results["hash"].append(timed(lambda: compose(workdir, "config", "--hash", "svc")))
            results["noop"].append(timed(lambda: compose(workdir, "up", "-d", "--no-deps", "svc")))
    finally:
        subprocess.run([*dockerclient.compose_argv(), "-p", PROJECT, "-f", str(workdir / "compose.yaml"), "down",
                        "--timeout", "2"], capture_output=True, timeout=120)
        for tag in tags:
            with contextlib.suppress(docker.errors.APIError):
                client.images.remove(f"{IMAGE}:{tag}")
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"recreate benchmark, {time.strftime('%Y-%m-%d %H:%M:%S %z')}; {os.cpu_count()} CPUs; "
          f"load average at start {load0}, at end {loadavg()}; {args.trials} trials each")
    for kind, values in results.items():
        s = summarise(values)
        if s:
            print(f"{kind:24} P50 {s.p50:6.0f} ms  P10-P90 {s.p10:.0f}-{s.p90:.0f} ms  n={s.n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
