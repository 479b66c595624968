"""Read calls to the Docker engine's HTTP API without the Docker SDK, for commands that must be instant.

Importing the SDK (requests, urllib3, ...) and building its client costs a short command ~0.15-0.3 s,
more than the whole ``docker ps`` it is compared with. The few reads ``status``, a no-op ``up`` and a
no-op ``build`` make (list containers, inspect an image) are plain GETs of JSON, so they go straight
over the engine's unix socket, one HTTP/1.0 request per connection. Where ``DOCKER_HOST`` is not a unix socket (TCP,
TLS, ssh) the SDK serves the same GET, so behaviour never depends on this shortcut.
"""

from __future__ import annotations

import _socket
import json
import os
from typing import Any
from urllib.parse import quote, urlencode

from devenv.errors import EngineError

DEFAULT_SOCKET = "/var/run/docker.sock"


def _unix_get(sock_path: str, url: str, timeout: float) -> tuple[int, bytes]:
    """One HTTP/1.0 GET over a unix socket. HTTP/1.0 makes the engine answer with a plain body and
    close the connection (no chunking, no keep-alive), so reading to EOF is the whole response;
    ``http.client`` would import ``ssl`` and ``email`` for nothing (~10 ms of a 50 ms command), and
    the C socket type is all this needs (``socket.py`` adds ``selectors`` and enum conversions of
    every constant: ~5 ms of ``devenv status``)."""
    sock = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout)
        sock.connect(sock_path)
        sock.sendall(f"GET {url} HTTP/1.0\r\nHost: docker\r\n\r\n".encode())
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    finally:
        sock.close()
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    if len(status_line) < 2 or not status_line[1].isdigit():
        raise OSError(f"not an HTTP answer from {sock_path}")
    if b"transfer-encoding: chunked" in head.lower():
        body = _unchunk(body)
    return int(status_line[1]), body


def _unchunk(body: bytes) -> bytes:
    out, rest = [], body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out.append(rest[:size])
        rest = rest[size + 2:]
    return b"".join(out)


def socket_path() -> str | None:
    """The engine's unix socket per ``DOCKER_HOST`` (the SDK's rule), or None for other transports."""
    host = os.environ.get("DOCKER_HOST", "")
    if not host:
        return DEFAULT_SOCKET if os.name != "nt" else None
    if host.startswith("unix://"):
        return host[len("unix://"):] or DEFAULT_SOCKET
    return None


def get(path: str, params: dict[str, Any] | None = None, timeout: float = 10.0, decode: bool = True) -> Any:
    """GET ``path`` (e.g. ``/containers/json``) and return its JSON; None on 404.
    Connection failures become ``EngineError`` with the hint to start the engine."""
    query = urlencode({k: (json.dumps(v) if isinstance(v, dict) else v) for k, v in (params or {}).items()})
    url = path + (f"?{query}" if query else "")
    sock = socket_path()
    if sock is None:
        return _get_via_sdk(url, timeout, decode)
    try:
        status, body = _unix_get(sock, url, timeout)
    except OSError as exc:
        from devenv.dockerclient import start_hint

        raise EngineError(f"the Docker engine does not answer ({type(exc).__name__})", start_hint()) from exc
    return _decode(status, body, path, decode)


def _decode(status: int, body: bytes, path: str, decode: bool = True) -> Any:
    if status == 404:
        return None
    if status >= 400:
        try:
            message = json.loads(body).get("message", "")
        except ValueError:
            message = body.decode("utf-8", "replace")[:200]
        raise EngineError(f"the Docker engine refused GET {path}: {message}", "")
    if not decode:
        return body
    return json.loads(body) if body else None


def _get_via_sdk(url: str, timeout: float, decode: bool = True) -> Any:
    from devenv.dockerclient import client, engine_call

    api = client(timeout=timeout).api
    resp = engine_call(lambda: api.get(api.base_url + url), f"GET {url.split('?')[0]}")
    return _decode(resp.status_code, resp.content, url.split("?")[0], decode)


def ping() -> None:
    """``docker info``'s cheapest cousin: raise ``EngineError`` unless the engine answers."""
    get("/_ping", decode=False)


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
