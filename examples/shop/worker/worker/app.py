"""The worker: WORKER_CONCURRENCY threads, each taking job ids off Redis and completing them.

Health: every consumer touches ``HEARTBEAT`` each time Redis answers its (1 s) take, and the
health check is a shell test of that file's age, so checking health starts no Python.
``python3 -m worker --check`` still answers by hand: exit 0 when Postgres and Redis both answer.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from contextlib import suppress
from typing import Any

from shoplib import Logger, Settings, Stopped, Stopper, db, jobs, queue, retry

settings = Settings.from_env()
log = Logger("worker")
HOSTNAME = socket.gethostname()
HEARTBEAT = "/tmp/worker.alive"


def check() -> int:
    """Quiet on success (health checks run every few seconds); one line saying why on failure."""
    try:
        with db.session(settings, timeout=2) as conn:
            db.ping(conn)
        queue.client(settings).ping()
    except Exception as exc:  # noqa: BLE001
        print(f"unhealthy: {type(exc).__name__}", file=sys.stderr)
        return 1
    return 0


def process(conn: Any, job_id: int, slot: int) -> None:
    started = time.monotonic()
    job = jobs.mark_done(conn, job_id, HOSTNAME)
    took_ms = round((time.monotonic() - started) * 1000, 1)
    if job is None:
        log.warning("job_missing", id=job_id, slot=slot)
    else:
        log.info("job_done", id=job_id, kind=job["kind"], processed_by=HOSTNAME, slot=slot, took_ms=took_ms)


def consume(slot: int, stopper: Stopper) -> None:
    """One consumer: its own database connection, reconnecting with backoff when it drops."""
    try:
        r = retry(lambda: _ready_redis(), what="redis", log=log, stopper=stopper)
        while not stopper.stopped:
            conn = retry(lambda: db.connect(settings), what="postgres", log=log, stopper=stopper)
            try:
                _drain(conn, r, slot, stopper)
            finally:
                _close(conn)
    except Stopped:
        pass


def _ready_redis() -> Any:
    client = queue.client(settings)
    client.ping()
    return client


def _drain(conn: Any, r: Any, slot: int, stopper: Stopper) -> None:
    """Take and complete jobs until asked to stop or a connection fails (then the caller reconnects)."""
    while not stopper.stopped:
        try:
            job_id = queue.take(r, timeout=1)
        except Exception as exc:  # noqa: BLE001 - Redis restarting: back off, try again
            log.warning("queue_unavailable", error=type(exc).__name__, slot=slot)
            stopper.wait(1.0)
            continue
        _beat()
        if job_id is None:
            continue
        try:
            process(conn, job_id, slot)
        except Exception as exc:  # noqa: BLE001 - give the job back, reconnect to Postgres
            log.error("job_failed", id=job_id, error=type(exc).__name__, slot=slot)
            _give_back(r, job_id)
            return


def _beat() -> None:
    """Redis answered and this consumer holds a Postgres connection: say so to the health check."""
    with suppress(OSError), open(HEARTBEAT, "a"):
        os.utime(HEARTBEAT)


def _close(conn: Any) -> None:
    with suppress(Exception):  # already broken
        conn.close()


def _give_back(r: Any, job_id: int) -> None:
    try:
        queue.requeue(r, job_id)
    except Exception as exc:  # noqa: BLE001
        log.error("requeue_failed", id=job_id, error=type(exc).__name__)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--check" in argv:
        return check()
    stopper = Stopper().install()
    log.info("starting", concurrency=settings.worker_concurrency, host=HOSTNAME)
    try:
        db.prepare_schema(settings, log, stopper)
    except Stopped:
        log.info("stopped")
        return 0
    threads = [
        threading.Thread(target=consume, args=(slot, stopper), name=f"consumer-{slot}", daemon=True)
        for slot in range(settings.worker_concurrency)
    ]
    for t in threads:
        t.start()
    log.info("consuming", queue=queue.QUEUE)
    stopper.wait_forever()
    for t in threads:
        t.join(timeout=1.5)  # a BRPOP blocks at most 1 s; daemon threads do not hold up the exit
    log.info("stopped")
    return 0
