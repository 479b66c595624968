"""HTTP on the standard library: GET / renders templates/index.html (read on every request, so a
synced template shows at once), POST /notes queues a note, GET /healthz answers when Redis does."""

from __future__ import annotations

import html
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
STORE = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://redis:6379/0"), socket_timeout=2)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        if self.path == "/healthz":
            STORE.ping()
            return self.reply(200, b"ok", "text/plain")
        if self.path != "/":
            return self.reply(404, b"not found", "text/plain")
        notes = "\n".join(f"<li>{html.escape(n.decode())}</li>" for n in STORE.lrange("notes", 0, -1))
        page = (ROOT / "templates" / "index.html").read_text()
        version = (ROOT / "VERSION").read_text().strip()
        self.reply(200, page.replace("{notes}", notes).replace("{version}", version).encode(), "text/html")

    def do_POST(self) -> None:
        if self.path != "/notes":
            return self.reply(404, b"not found", "text/plain")
        body = self.rfile.read(min(int(self.headers.get("Content-Length") or 0), 4096))
        STORE.rpush("jobs", body)
        self.reply(202, b"queued", "text/plain")

    def reply(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt: str, *args: object) -> None:
        if "/healthz" not in str(args[0] if args else ""):
            sys.stderr.write("web: " + fmt % args + "\n")


def main() -> None:
    server = ThreadingHTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8000"))), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"web: listening on {server.server_address[1]}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    server.shutdown()


main()
