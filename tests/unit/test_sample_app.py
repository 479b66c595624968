"""The bundled sample app's pure logic (examples/shop), importable without Docker or its drivers."""

from __future__ import annotations

import io
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

SHOP = Path(__file__).resolve().parents[2] / "examples" / "shop"
for _part in ("base", "web", "api"):
    if str(SHOP / _part) not in sys.path:
        sys.path.insert(0, str(SHOP / _part))

from api.routes import BadRequest, job_id_from_path, kind_from_body  # noqa: E402
from shoplib import Logger, Settings, Stopped, Stopper, backoff_delays, features_from_env, retry  # noqa: E402
from shoplib.db import jsonable, row_dicts  # noqa: E402
from shoplib.jobs import valid_kind  # noqa: E402
from shoplib.log import REDACTED, format_event, redact, secret_values  # noqa: E402
from shoplib.queue import parse_job_id  # noqa: E402
from web.render import content_type, jobs_rows_html, page_context, render, static_file  # noqa: E402

ENV = {
    "TENANT": "acme",
    "SHOP_TITLE": "ACME Corporation",
    "SHOP_CURRENCY": "EUR",
    "DATABASE_PASSWORD": "devpass",
    "PAYMENTS_API_KEY": "sk_live_123",
    "FEATURE_NEW_CHECKOUT": "true",
    "FEATURE_BULK_EXPORT": "false",
    "WORKER_CONCURRENCY": "3",
    "SCHEDULE_INTERVAL": "nonsense",
}


# --- settings ----------------------------------------------------------------------------------


def test_features_come_from_feature_env_vars() -> None:
    assert features_from_env(ENV) == {"bulk_export": False, "new_checkout": True}
    assert features_from_env({"FEATURE_": "true", "FEATURE_X": "1", "FEATURE_Y": "On"}) == {
        "x": True,
        "y": True,
    }


def test_settings_from_env_with_defaults_for_bad_numbers() -> None:
    s = Settings.from_env(ENV)
    assert (s.tenant, s.title, s.currency) == ("acme", "ACME Corporation", "EUR")
    assert s.worker_concurrency == 3
    assert s.schedule_interval == 30.0  # unparsable: the default, not a crash
    assert s.db_password == "devpass"
    assert "devpass" not in repr(s)


def test_settings_title_defaults_to_tenant() -> None:
    s = Settings.from_env({"TENANT": "globex", "WORKER_CONCURRENCY": "0"})
    assert s.title == "globex"
    assert s.worker_concurrency == 1


# --- logging -----------------------------------------------------------------------------------


def test_secret_values_are_masked_wherever_they_appear() -> None:
    secrets = secret_values(ENV)
    assert set(secrets) == {"devpass", "sk_live_123"}
    fields = {"dsn": "postgres://shop:devpass@db/shop", "nested": {"items": ["key sk_live_123"]}}
    assert redact(fields, secrets) == {"dsn": "postgres://shop:***@db/shop", "nested": {"items": ["key ***"]}}


def test_fields_named_like_secrets_are_masked_whatever_their_value() -> None:
    line = format_event(
        "x", {"password": "hunter2", "api_key": "k", "user": "shop"}, tenant="t", component="c"
    )
    record = json.loads(line)
    assert record["password"] == REDACTED and record["api_key"] == REDACTED and record["user"] == "shop"


def test_format_event_is_one_json_line_with_tenant_first() -> None:
    now = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    line = format_event("job_done", {"id": 7, "tenant": "spoof"}, tenant="acme", component="worker", now=now)
    assert "\n" not in line
    assert json.loads(line) == {
        "ts": "2026-01-02T03:04:05.000+00:00",
        "level": "info",
        "tenant": "acme",  # a field cannot overwrite the envelope
        "component": "worker",
        "event": "job_done",
        "id": 7,
    }


def test_logger_honours_level_and_never_prints_secrets() -> None:
    out = io.StringIO()
    log = Logger("api", {**ENV, "LOG_LEVEL": "info"}, stream=out)
    log.debug("hidden")
    log.info("connect", error="password authentication failed: devpass")
    lines = out.getvalue().splitlines()
    assert len(lines) == 1
    assert "devpass" not in lines[0] and json.loads(lines[0])["tenant"] == "acme"


# --- retry and backoff -------------------------------------------------------------------------


def test_backoff_grows_then_stays_capped() -> None:
    gen = backoff_delays(initial=0.25, factor=2, maximum=2)
    assert [next(gen) for _ in range(6)] == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


def test_retry_logs_each_failure_then_returns() -> None:
    out = io.StringIO()
    attempts = iter([ConnectionError("refused"), ConnectionError("refused"), "ok"])

    def attempt() -> str:
        item = next(attempts)
        if isinstance(item, Exception):
            raise item
        return item

    log = Logger("web", ENV, stream=out)
    assert retry(attempt, what="postgres", log=log, stopper=Stopper(), delays=iter([0.0] * 5)) == "ok"
    events = [json.loads(line)["event"] for line in out.getvalue().splitlines()]
    assert events == ["waiting", "waiting", "ready"]


def test_retry_gives_up_with_the_last_error_when_delays_run_out() -> None:
    def attempt() -> None:
        raise TimeoutError("still starting")

    log = Logger("web", ENV, stream=io.StringIO())
    with pytest.raises(TimeoutError):
        retry(attempt, what="redis", log=log, stopper=Stopper(), delays=iter([0.0, 0.0]))


def test_retry_stops_when_asked() -> None:
    stopper = Stopper()
    stopper.stop()
    with pytest.raises(Stopped):
        retry(lambda: 1, what="redis", log=Logger("web", ENV, stream=io.StringIO()), stopper=stopper)


# --- small parsers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/jobs/42", 42), ("/jobs/42/", 42), ("/jobs/", None), ("/jobs/x", None), ("/jobs/1/2", None)],
)
def test_job_id_from_path(path: str, expected: int | None) -> None:
    assert job_id_from_path(path) == expected


def test_kind_from_body() -> None:
    assert kind_from_body(b"") == "export"
    assert kind_from_body(b"{}") == "export"
    assert kind_from_body(b'{"kind": "report"}') == "report"
    for bad in (b"nope", b"[1]", b'{"kind": "Bad Kind"}', b'{"kind": 3}', b"\xff"):
        with pytest.raises(BadRequest):
            kind_from_body(bad)


def test_kinds_queue_ids_and_rows() -> None:
    assert valid_kind("bulk_export") and not valid_kind("") and not valid_kind("x" * 33)
    assert parse_job_id(b"12") == 12 and parse_job_id("nope") is None
    when = datetime(2026, 1, 1, tzinfo=UTC)
    assert row_dicts(["id", "at"], [(1, when)]) == [{"id": 1, "at": "2026-01-01T00:00:00+00:00"}]
    assert jsonable("x") == "x"


# --- web rendering -----------------------------------------------------------------------------


def test_render_escapes_values_but_not_html_fragments() -> None:
    html = render("<h1>$title</h1>$rows_html $unknown", {"title": "<b>A&B</b>", "rows_html": "<tr></tr>"})
    assert html == "<h1>&lt;b&gt;A&amp;B&lt;/b&gt;</h1><tr></tr> $unknown"


def test_jobs_rows_escape_cells() -> None:
    rows = jobs_rows_html(
        [{"id": 1, "kind": "<script>", "status": "done", "created_at": "t", "processed_by": None}]
    )
    assert "&lt;script&gt;" in rows and "<script>" not in rows and "None" not in rows
    assert "No jobs yet" in jobs_rows_html([])


def test_the_real_template_fills_every_placeholder() -> None:
    template = (SHOP / "web" / "templates" / "index.html").read_text()
    context = page_context(
        {"tenant": "acme", "title": "ACME", "currency": "EUR"},
        {"done": 4, "queued": 1},
        [{"id": 5, "kind": "export", "status": "queued", "created_at": "now", "processed_by": None}],
        {"new_checkout": True},
    )
    page = render(template, context)
    assert not re.search(r"\$\{?[A-Za-z_]", page), "a placeholder was left unfilled"
    assert "ACME" in page and 'data-tenant="acme"' in page
    assert context["jobs_total"] == 5 and context["db_status"] == "connected"


def test_page_context_when_the_database_is_down() -> None:
    context = page_context({"tenant": "acme"}, None, [], {})
    assert context["db_status"] == "database unavailable" and context["jobs_done"] == 0


def test_static_file_stays_inside_its_root(tmp_path: Path) -> None:
    root = tmp_path / "static"
    (root / "css").mkdir(parents=True)
    (root / "css" / "a.css").write_text("body{}")
    (tmp_path / "secret.txt").write_text("no")
    assert static_file(root, "css/a.css") == (root / "css" / "a.css").resolve()
    for bad in ("../secret.txt", "css/../../secret.txt", "/etc/passwd", "", "css", "missing.css"):
        assert static_file(root, bad) is None, bad


def test_static_file_refuses_a_symlink_out_of_its_root(tmp_path: Path) -> None:
    root = tmp_path / "static"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("no")
    (root / "link.txt").symlink_to(tmp_path / "secret.txt")
    assert static_file(root, "link.txt") is None


def test_content_types() -> None:
    assert content_type(Path("a.css")) == "text/css; charset=utf-8"
    assert content_type(Path("a.png")) == "image/png"
    assert content_type(Path("a.unknownext")) == "application/octet-stream"
