"""``python3 -m worker`` files queued notes; ``python3 -m worker --check`` exits 0 when Redis answers."""

from __future__ import annotations

import os
import signal
import sys

import redis

STORE = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://redis:6379/0"), socket_timeout=5)


def main() -> int:
    if "--check" in sys.argv:
        return 0 if STORE.ping() else 1
    running = [True]
    signal.signal(signal.SIGTERM, lambda *_: running.clear())
    print("worker: waiting for notes", flush=True)
    while running:
        job = STORE.blpop(["jobs"], timeout=1)
        if job is not None:
            STORE.rpush("notes", job[1].decode().upper())
            print(f"worker: filed {job[1].decode()!r}", flush=True)
    return 0


sys.exit(main())
