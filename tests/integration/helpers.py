"""Helpers for tests that drive the real CLI against the real engine."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import docker


def devenv(root: Path, *args: str, check: bool = True, timeout: float = 900, env: dict[str, str] | None = None
           ) -> subprocess.CompletedProcess[str]:
    """Run the real CLI (``python -m devenv.cli``) in ``root``."""
    full_env = {**os.environ, "DEVENV_ROOT": str(root), "NO_COLOR": "1", **(env or {})}
    if root in PREFIXES:
        full_env["DEVENV_PROJECT_PREFIX"] = PREFIXES[root]
    cp = subprocess.run([sys.executable, "-m", "devenv.cli", *args], cwd=root, env=full_env,
                        capture_output=True, text=True, timeout=timeout)
    if check and cp.returncode != 0:
        raise AssertionError(f"devenv {' '.join(args)} exited {cp.returncode}\nstdout:\n{cp.stdout}\nstderr:\n{cp.stderr}")
    return cp


def http(url: str, data: dict[str, Any] | None = None, timeout: float = 5) -> tuple[int, str]:
    body = json.dumps(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, method="POST" if body is not None else "GET",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def wait_for(fn, timeout: float = 60, interval: float = 0.2, what: str = "condition"):  # type: ignore[no-untyped-def]
    """Poll ``fn`` until it returns a truthy value; fail with ``what`` after ``timeout``."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = fn()
            if last:
                return last
        except Exception as exc:  # the service may not be up yet
            last = exc
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def project_containers(app: str, tenant: str | None = None) -> list[Any]:
    labels = [f"dev.devenv.project={app}"] + ([f"dev.devenv.tenant={tenant}"] if tenant else [])
    return docker.from_env().containers.list(all=True, filters={"label": labels})


PREFIXES: dict[Path, str] = {}


def isolate(root: Path, app: str, port_base: int) -> None:
    """Give a sample copy its own app name, compose project prefix (``devenv()`` passes it as
    DEVENV_PROJECT_PREFIX) and port range, so it cannot touch anything else on the engine."""
    PREFIXES[root] = app
    f = root / "devenv.yaml"
    text = f.read_text().replace("name: shop", f"name: {app}", 1)
    text = text.replace("port_base: 18000", f"port_base: {port_base}", 1)
    f.write_text(text)


def teardown(root: Path, tenants: list[str]) -> None:
    for t in tenants:
        devenv(root, "down", "--tenant", t, "--volumes", check=False)


def interruptible() -> None:
    """``preexec_fn`` for a child the test will Ctrl+C: SIGINT back to its default, so Python in the
    child installs its KeyboardInterrupt handler. A suite started in the background by a shell
    without job control (``cmd &`` in a script, ``nohup``) runs with SIGINT ignored, and an ignored
    signal stays ignored across exec: the child would never see the test's Ctrl+C."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
