"""Read calls to the Docker engine's HTTP API without the Docker SDK, for commands that must be instant.

Importing the SDK (requests, urllib3, ...) and building its client costs a short command ~0.15-0.3 s,
more than the whole ``docker ps`` it is compared with. The few reads ``status``, a no-op ``up`` and a
no-op ``build`` make (list containers, inspect an image) are plain GETs of JSON, so they go straight
over the engine's unix socket with ``http.client``. Where ``DOCKER_HOST`` is not a unix socket (TCP,
TLS, ssh) the SDK serves the same GET, so behaviour never depends on this shortcut.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
from typing import Any
from urllib.parse import quote, urlencode

from devenv.errors import EngineError

DEFAULT_SOCKET = "/var/run/docker.sock"


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        sock.connect(self.socket_path)
        self.sock = sock


def socket_path() -> str | None:
    """The engine's unix socket per ``DOCKER_HOST`` (the SDK's rule), or None for other transports."""
    host = os.environ.get("DOCKER_HOST", "")
    if not host:
        return DEFAULT_SOCKET if os.name != "nt" else None
    if host.startswith("unix://"):
        return host[len("unix://"):] or DEFAULT_SOCKET
    return None


def get(path: str, params: dict[str, Any] | None = None, timeout: float = 10.0) -> Any:
    """GET ``path`` (e.g. ``/containers/json``) and return its JSON; None on 404.
    Connection failures become ``EngineError`` with the hint to start the engine."""
    query = urlencode({k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in (params or {}).items()})
    url = path + (f"?{query}" if query else "")
    sock = socket_path()
    if sock is None:
        return _get_via_sdk(url, timeout)
    conn = _UnixConnection(sock, timeout)
    try:
        conn.request("GET", url, headers={"Host": "docker"})
        resp = conn.getresponse()
        body = resp.read()
    except OSError as exc:
        from devenv.dockerclient import start_hint

        raise EngineError(f"the Docker engine does not answer ({type(exc).__name__})", start_hint()) from exc
    finally:
        conn.close()
    return _decode(resp.status, body, path)


def _decode(status: int, body: bytes, path: str) -> Any:
    if status == 404:
        return None
    if status >= 400:
        try:
            message = json.loads(body).get("message", "")
        except ValueError:
            message = body.decode("utf-8", "replace")[:200]
        raise EngineError(f"the Docker engine refused GET {path}: {message}", "")
    return json.loads(body) if body else None


def _get_via_sdk(url: str, timeout: float) -> Any:
    from devenv.dockerclient import client, engine_call

    api = client(timeout=timeout).api
    resp = engine_call(lambda: api.get(api.base_url + url), f"GET {url.split('?')[0]}")
    return _decode(resp.status_code, resp.content, url.split("?")[0])


def containers(labels: list[str], all: bool = True) -> list[dict[str, Any]]:
    """``docker ps [-a] --filter label=...``: one call, the engine's summaries (no inspect)."""
    params: dict[str, Any] = {"filters": {"label": labels}}
    if all:
        params["all"] = "1"
    return list(get("/containers/json", params) or [])


def inspect_image(ref: str) -> dict[str, Any] | None:
    """The image's inspect document, or None when the engine has no such image."""
    result = get(f"/images/{quote(ref, safe='/:@')}/json")
    return result if isinstance(result, dict) else None
