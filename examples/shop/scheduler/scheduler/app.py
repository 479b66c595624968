"""The scheduler: a 'report' job now and then every SCHEDULE_INTERVAL seconds (default 30)."""

from __future__ import annotations

from typing import Any

from shoplib import Logger, Settings, Stopped, Stopper, db, jobs, queue, retry

settings = Settings.from_env()
log = Logger("scheduler")
KIND = "report"


def _ready_redis() -> Any:
    client = queue.client(settings)
    client.ping()
    return client


def insert_job() -> int:
    with db.session(settings) as conn:
        return jobs.create(conn, settings.tenant, KIND)


def schedule_one(stopper: Stopper) -> int:
    """Insert, then enqueue, each retried on its own so a Redis hiccup never duplicates the row."""
    job_id = retry(insert_job, what="postgres", log=log, stopper=stopper)
    retry(lambda: queue.enqueue(_redis(), job_id), what="redis", log=log, stopper=stopper)
    return job_id


_client: Any = None


def _redis() -> Any:
    global _client
    if _client is None:
        _client = _ready_redis()
    return _client


def main() -> int:
    stopper = Stopper().install()
    log.info("starting", interval=settings.schedule_interval)
    try:
        retry(_redis, what="redis", log=log, stopper=stopper)

        def prepare() -> None:
            with db.session(settings) as conn:
                db.ensure_schema(conn)

        retry(prepare, what="postgres", log=log, stopper=stopper)
        while True:
            job_id = schedule_one(stopper)
            log.info("job_scheduled", id=job_id, kind=KIND, next_in=settings.schedule_interval)
            stopper.wait(settings.schedule_interval)
    except Stopped:
        log.info("stopped")
    return 0
