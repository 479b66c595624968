"""The web server. Templates and static files are read from disk on every request, so files devenv
syncs into the container are live at once; Python changes need the restart devenv does."""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from shoplib import Logger, Settings, Stopped, Stopper, db, jobs
from shoplib.httpd import Handler, serve

from web.render import content_type, page_context, render, static_file

ROOT = Path(__file__).resolve().parent.parent  # /srv/web
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"

settings = Settings.from_env()
log = Logger("web")


def settings_view(s: Settings) -> dict[str, Any]:
    return {"tenant": s.tenant, "title": s.title, "currency": s.currency}


def load_jobs_data() -> tuple[dict[str, int] | None, list[dict[str, Any]]]:
    try:
        with db.session(settings, timeout=3) as conn:
            return jobs.counts(conn, settings.tenant), jobs.recent(conn, settings.tenant)
    except Exception as exc:  # noqa: BLE001 - the page says the database is down
        log.warning("db_unavailable", error=type(exc).__name__)
        return None, []


class WebHandler(Handler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        route = self.route
        if route in ("/", "/index.html"):
            self.index()
        elif route == "/healthz":
            self.healthz()
        elif route == "/api/info":
            self.info()
        elif route.startswith("/static/"):
            self.static(unquote(route[len("/static/") :]))
        else:
            self.send_json(404, {"error": "not found", "path": route})

    do_HEAD = do_GET

    def index(self) -> None:
        counts, recent = load_jobs_data()
        context = page_context(settings_view(settings), counts, recent, settings.features)
        try:
            template = (TEMPLATES / "index.html").read_text(encoding="utf-8")
        except OSError as exc:
            self.send_json(500, {"error": f"template unreadable: {type(exc).__name__}"})
            return
        self.send_body(200, render(template, context).encode(), "text/html; charset=utf-8")

    def healthz(self) -> None:
        try:
            with db.session(settings, timeout=2) as conn:
                db.ping(conn)
        except Exception as exc:  # noqa: BLE001
            self.send_json(503, {"status": "unavailable", "postgres": type(exc).__name__})
            return
        self.send_json(200, {"status": "ok"})

    def info(self) -> None:
        counts, _ = load_jobs_data()
        payload = {
            **settings_view(settings),
            "features": settings.features,
            "jobs_done": None if counts is None else counts.get("done", 0),
        }
        self.send_json(200 if counts is not None else 503, payload)

    def static(self, rel: str) -> None:
        path = static_file(STATIC, rel)
        if path is None:
            self.send_json(404, {"error": "not found", "path": self.route})
            return
        self.send_body(200, path.read_bytes(), content_type(path))


def prepare_schema(stopper: Stopper) -> None:
    """In the background: the page serves (saying the database is down) while Postgres starts."""

    with contextlib.suppress(Stopped):
        db.prepare_schema(settings, log, stopper)


def main() -> int:
    stopper = Stopper().install()
    log.info("starting", title=settings.title, features=settings.features)
    threading.Thread(target=prepare_schema, args=(stopper,), daemon=True).start()
    serve(WebHandler, settings.port, log, stopper)
    return 0
