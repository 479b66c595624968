"""A small JSON-friendly HTTP server on the standard library, shared by web and api.

Each request logs one line (health probes at debug level so they do not drown the log). The server
runs in a thread while the main thread waits for SIGTERM, then shuts down in well under a second.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import urlsplit

from shoplib.log import Logger
from shoplib.runtime import Stopper

QUIET_PATHS = frozenset({"/healthz"})
MAX_BODY = 64 * 1024


class Handler(BaseHTTPRequestHandler):
    """Subclasses implement ``do_GET``/``do_POST`` with the helpers below."""

    server_version = "shop"
    protocol_version = "HTTP/1.1"
    logger: ClassVar[Logger]

    @property
    def route(self) -> str:
        return urlsplit(self.path).path

    def send_body(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def send_json(self, status: int, payload: Any) -> None:
        body = json.dumps(payload, default=str, indent=None).encode()
        self.send_body(status, body, "application/json")

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise ValueError(f"body larger than {MAX_BODY} bytes")
        return self.rfile.read(length) if length > 0 else b""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        level = "debug" if self.route in QUIET_PATHS else "info"
        status = code.value if hasattr(code, "value") else code
        self.logger.log(level, "request", method=self.command, path=self.route, status=status)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        self.logger.debug("http", detail=format % args)


def serve(handler: type[Handler], port: int, logger: Logger, stopper: Stopper) -> None:
    """Serve until SIGTERM; returns once the listener is closed."""
    handler.logger = logger
    server = ThreadingHTTPServer(("0.0.0.0", port), handler)
    server.daemon_threads = True
    # shutdown() waits for the loop's next poll: a short poll makes SIGTERM (a restart) quick to obey
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    logger.info("listening", port=port)
    try:
        stopper.wait_forever()
    finally:
        server.shutdown()
        server.server_close()
        logger.info("stopped")
