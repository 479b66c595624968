"""The jobs table: what api and scheduler create, worker completes and web shows."""

from __future__ import annotations

import re
from typing import Any

from shoplib.db import query

KIND = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
COLUMNS = "id, tenant, kind, status, created_at, done_at, processed_by"


def valid_kind(kind: object) -> bool:
    return isinstance(kind, str) and bool(KIND.match(kind))


def create(conn: Any, tenant: str, kind: str) -> int:
    rows = query(
        conn, "INSERT INTO jobs (tenant, kind) VALUES (%(t)s, %(k)s) RETURNING id", {"t": tenant, "k": kind}
    )
    return int(rows[0]["id"])


def get(conn: Any, job_id: int) -> dict[str, Any] | None:
    rows = query(conn, f"SELECT {COLUMNS} FROM jobs WHERE id = %(i)s", {"i": job_id})
    return rows[0] if rows else None


def mark_done(conn: Any, job_id: int, processed_by: str) -> dict[str, Any] | None:
    rows = query(
        conn,
        f"UPDATE jobs SET status = 'done', done_at = now(), processed_by = %(h)s WHERE id = %(i)s "
        f"RETURNING {COLUMNS}",
        {"h": processed_by, "i": job_id},
    )
    return rows[0] if rows else None


def recent(conn: Any, tenant: str, limit: int = 10) -> list[dict[str, Any]]:
    return query(
        conn,
        f"SELECT {COLUMNS} FROM jobs WHERE tenant = %(t)s ORDER BY id DESC LIMIT %(n)s",
        {"t": tenant, "n": limit},
    )


def counts(conn: Any, tenant: str) -> dict[str, int]:
    """Jobs by status, e.g. ``{"queued": 1, "done": 7}``."""
    rows = query(
        conn, "SELECT status, count(*) AS n FROM jobs WHERE tenant = %(t)s GROUP BY status", {"t": tenant}
    )
    return {str(r["status"]): int(r["n"]) for r in rows}
