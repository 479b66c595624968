"""Pure request parsing for the api (no I/O, unit-tested)."""

from __future__ import annotations

import json
import re

from shoplib.jobs import valid_kind

DEFAULT_KIND = "export"
_JOB_PATH = re.compile(r"^/jobs/(\d{1,18})/?$")


class BadRequest(ValueError):
    """The client's mistake: answered with 400 and this message."""


def job_id_from_path(path: str) -> int | None:
    """``/jobs/42`` -> 42; anything else -> None."""
    match = _JOB_PATH.match(path)
    return int(match.group(1)) if match else None


def kind_from_body(body: bytes) -> str:
    """The job kind a ``POST /jobs`` body asks for: ``{"kind": "export"}``; an empty body means the
    default kind."""
    if not body.strip():
        return DEFAULT_KIND
    try:
        payload = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadRequest(f"body is not JSON: {exc.msg if hasattr(exc, 'msg') else exc}") from None
    if not isinstance(payload, dict):
        raise BadRequest("body must be a JSON object")
    kind = payload.get("kind", DEFAULT_KIND)
    if not valid_kind(kind):
        raise BadRequest("kind must be 1-32 characters of a-z, 0-9, '_' or '-', starting with a letter")
    return str(kind)
