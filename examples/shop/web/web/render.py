"""Pure rendering: a template's text plus data in, HTML out (no I/O, so it is unit-tested).

Templates use ``string.Template`` placeholders (``$title``, ``${jobs_done}``). Values are HTML-escaped
unless their key ends in ``_html`` (fragments this module built and escaped itself).
"""

from __future__ import annotations

import html
import mimetypes
from collections.abc import Mapping
from pathlib import Path, PurePosixPath
from string import Template
from typing import Any


def render(template_text: str, context: Mapping[str, Any]) -> str:
    """Unknown placeholders are left as they are, so a half-edited template still renders."""
    values = {k: (str(v) if k.endswith("_html") else html.escape(str(v))) for k, v in context.items()}
    return Template(template_text).safe_substitute(values)


def jobs_rows_html(jobs: list[Mapping[str, Any]]) -> str:
    if not jobs:
        return '<tr><td colspan="5" class="empty">No jobs yet.</td></tr>'
    cells = ("id", "kind", "status", "created_at", "processed_by")
    return "\n".join(
        "<tr>" + "".join(f"<td>{html.escape(str(job.get(c) or ''))}</td>" for c in cells) + "</tr>"
        for job in jobs
    )


def features_html(features: Mapping[str, bool]) -> str:
    if not features:
        return '<li class="empty">none</li>'
    return "\n".join(
        f'<li class="{"on" if on else "off"}">{html.escape(name)}: {"on" if on else "off"}</li>'
        for name, on in sorted(features.items())
    )


def page_context(
    settings_view: Mapping[str, Any],
    counts: Mapping[str, int] | None,
    jobs: list[Mapping[str, Any]],
    features: Mapping[str, bool],
) -> dict[str, Any]:
    """Everything ``index.html`` may use. ``counts`` is None when the database does not answer."""
    db_ok = counts is not None
    counts = counts or {}
    return {
        **settings_view,
        "jobs_done": counts.get("done", 0),
        "jobs_queued": counts.get("queued", 0),
        "jobs_total": sum(counts.values()),
        "db_status": "connected" if db_ok else "database unavailable",
        "db_class": "ok" if db_ok else "down",
        "jobs_rows_html": jobs_rows_html(jobs),
        "features_html": features_html(features),
    }


def static_file(root: Path, url_path: str) -> Path | None:
    """The file under ``root`` that ``/static/<rel>`` names, or None (missing, a directory, or an
    attempt to climb out of ``root``)."""
    rel = PurePosixPath(url_path)
    if rel.is_absolute() or any(part in ("..", "") for part in rel.parts) or not rel.parts:
        return None
    candidate = root.joinpath(*rel.parts)
    try:
        resolved = candidate.resolve(strict=True)
        resolved.relative_to(root.resolve())
    except (OSError, ValueError):
        return None
    return resolved if resolved.is_file() else None


def content_type(path: Path) -> str:
    guessed, _ = mimetypes.guess_type(path.name)
    ctype = guessed or "application/octet-stream"
    return f"{ctype}; charset=utf-8" if ctype.startswith("text/") or ctype.endswith("javascript") else ctype
