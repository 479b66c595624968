"""Postgres through psycopg2 (Debian's package). One short-lived connection per unit of work keeps
the threaded HTTP servers simple; the driver is imported lazily so the pure code needs no driver."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from datetime import date, datetime
from typing import Any

from shoplib.config import Settings

SCHEMA_LOCK = 7_401_000  # advisory lock id: components starting together create the schema once
SCHEMA = (
    """CREATE TABLE IF NOT EXISTS jobs (
        id           BIGSERIAL PRIMARY KEY,
        tenant       TEXT NOT NULL,
        kind         TEXT NOT NULL DEFAULT 'export',
        status       TEXT NOT NULL DEFAULT 'queued',
        created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
        done_at      TIMESTAMPTZ,
        processed_by TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS jobs_status_idx ON jobs (status)",
)


def connect(settings: Settings, timeout: float = 5.0) -> Any:
    import psycopg2

    conn = psycopg2.connect(
        host=settings.db_host,
        port=settings.db_port,
        dbname=settings.db_name,
        user=settings.db_user,
        password=settings.db_password,
        connect_timeout=max(1, int(timeout)),
        application_name=f"shop-{settings.tenant}",
    )
    conn.autocommit = True
    return conn


@contextmanager
def session(settings: Settings, timeout: float = 5.0) -> Iterator[Any]:
    conn = connect(settings, timeout)
    try:
        yield conn
    finally:
        with suppress(Exception):  # the connection is gone either way
            conn.close()


def query(conn: Any, sql: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (empty for statements that return none)."""
    with conn.cursor() as cur:
        cur.execute(sql, params or {})
        if cur.description is None:
            return []
        return row_dicts([c[0] for c in cur.description], cur.fetchall())


def ping(conn: Any) -> bool:
    return query(conn, "SELECT 1 AS ok") == [{"ok": 1}]


def ensure_schema(conn: Any) -> None:
    """Idempotent, and serialised so concurrent starters do not race on CREATE TABLE."""
    query(conn, "SELECT pg_advisory_lock(%(k)s)", {"k": SCHEMA_LOCK})
    try:
        for statement in SCHEMA:
            query(conn, statement)
    finally:
        query(conn, "SELECT pg_advisory_unlock(%(k)s)", {"k": SCHEMA_LOCK})


def jsonable(value: Any) -> Any:
    """Timestamps as ISO 8601 strings; everything else as is."""
    return value.isoformat() if isinstance(value, datetime | date) else value


def row_dicts(names: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
    return [{n: jsonable(v) for n, v in zip(names, row, strict=True)} for row in rows]


def prepare_schema(settings: Settings, log: Any, stopper: Any) -> None:
    """Create the schema once Postgres answers, retrying while it starts (every component starts
    before its database is ready). Raises ``Stopped`` if the process is asked to stop first."""
    from shoplib.runtime import retry

    def attempt() -> None:
        with session(settings) as conn:
            ensure_schema(conn)

    retry(attempt, what="postgres", log=log, stopper=stopper)
    log.info("schema_ready")
