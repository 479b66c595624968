"""The api server: POST /jobs, GET /jobs/<id>, GET /healthz."""

from __future__ import annotations

import contextlib
import threading
from typing import Any

from shoplib import Logger, Settings, Stopped, Stopper, db, jobs, queue
from shoplib.httpd import Handler, serve

from api.routes import BadRequest, job_id_from_path, kind_from_body

settings = Settings.from_env()
log = Logger("api")
_redis: Any = None


def redis_client() -> Any:
    """One client (it pools connections and is thread-safe), made on first use."""
    global _redis
    if _redis is None:
        _redis = queue.client(settings)
    return _redis


class ApiHandler(Handler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.route == "/healthz":
            self.healthz()
            return
        job_id = job_id_from_path(self.route)
        if job_id is None:
            self.send_json(404, {"error": "not found", "path": self.route})
            return
        try:
            with db.session(settings, timeout=3) as conn:
                job = jobs.get(conn, job_id)
        except Exception as exc:  # noqa: BLE001
            self.send_json(503, {"error": f"database unavailable: {type(exc).__name__}"})
            return
        if job is None:
            self.send_json(404, {"error": f"no job {job_id}"})
        else:
            self.send_json(200, job)

    def do_POST(self) -> None:  # noqa: N802
        if self.route.rstrip("/") != "/jobs":
            self.send_json(404, {"error": "not found", "path": self.route})
            return
        try:
            kind = kind_from_body(self.read_body())
        except (BadRequest, ValueError) as exc:
            self.send_json(400, {"error": str(exc)})
            return
        try:
            with db.session(settings, timeout=3) as conn:
                job_id = jobs.create(conn, settings.tenant, kind)
        except Exception as exc:  # noqa: BLE001
            self.send_json(503, {"error": f"database unavailable: {type(exc).__name__}"})
            return
        try:
            queue.enqueue(redis_client(), job_id)
        except Exception as exc:  # noqa: BLE001 - the row stays 'queued'; say so
            log.error("enqueue_failed", id=job_id, error=type(exc).__name__)
            self.send_json(503, {"id": job_id, "error": f"queue unavailable: {type(exc).__name__}"})
            return
        log.info("job_created", id=job_id, kind=kind)
        self.send_json(202, {"id": job_id, "kind": kind, "status": "queued"})

    def healthz(self) -> None:
        problems = {}
        try:
            with db.session(settings, timeout=2) as conn:
                db.ping(conn)
        except Exception as exc:  # noqa: BLE001
            problems["postgres"] = type(exc).__name__
        try:
            redis_client().ping()
        except Exception as exc:  # noqa: BLE001
            problems["redis"] = type(exc).__name__
        if problems:
            self.send_json(503, {"status": "unavailable", **problems})
        else:
            self.send_json(200, {"status": "ok"})


def prepare_schema(stopper: Stopper) -> None:
    with contextlib.suppress(Stopped):
        db.prepare_schema(settings, log, stopper)


def main() -> int:
    stopper = Stopper().install()
    log.info("starting")
    threading.Thread(target=prepare_schema, args=(stopper,), daemon=True).start()
    serve(ApiHandler, settings.port, log, stopper)
    return 0
