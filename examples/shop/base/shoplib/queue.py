"""The job queue: a Redis list. Producers LPUSH job ids, workers BRPOP them (FIFO)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from shoplib.config import Settings

if TYPE_CHECKING:
    from redis import Redis

QUEUE = "shop:jobs"


def client(settings: Settings) -> Redis:
    import redis

    # The socket timeout stays above BRPOP's 1 s block so an idle queue is not an error.
    return redis.Redis.from_url(settings.redis_url, socket_connect_timeout=3, socket_timeout=5)


def enqueue(r: Redis, job_id: int) -> None:
    r.lpush(QUEUE, str(job_id))


def requeue(r: Redis, job_id: int) -> None:
    """Put a job back at the consuming end so it is the next one taken."""
    r.rpush(QUEUE, str(job_id))


def take(r: Redis, timeout: int = 1) -> int | None:
    """The next job id, or None after ``timeout`` seconds of an empty queue."""
    item = r.brpop([QUEUE], timeout=timeout)
    if item is None:
        return None
    return parse_job_id(item[1])


def parse_job_id(raw: bytes | str) -> int | None:
    text = raw.decode() if isinstance(raw, bytes) else raw
    return int(text) if text.strip().isdigit() else None
