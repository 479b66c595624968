"""The event log under ``.devenv/``: every action with its cause, cost and outcome, bounded,
rotated, secrets masked, and read back by ``devenv events`` and by the next session."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from devenv.commands.events import format_record, parse_age
from devenv.engine import eventlog
from devenv.errors import DevenvError
from devenv.events import ComponentState, LogLine, Timeline
from devenv.secrets import Masker

REPO = Path(__file__).resolve().parents[2]


def sync(name: str, ts: float, tenants: tuple[str, ...] = ("acme",)) -> Timeline:
    return Timeline(kind="sync", component="web", tenants=tenants, cost_ms=38.2, ts=ts,
                    message=f"synced 1 file(s) [{name}] by rule web/templates -> /srv/web/templates",
                    files=(f"examples/shop/web/templates/{name}",))


def test_every_action_is_appended_with_its_files_cost_and_outcome(tmp_path: Path) -> None:
    log = eventlog.EventLog(tmp_path)
    log(sync("index.html", 100.0))
    log(LogLine(tenant="acme", component="web", line="GET / 200"))  # logs are not actions
    log(Timeline(kind="fail", message="build of web failed: Dockerfile:9", component="web",
                 tenants=("acme",), detail=("step 9", "E: no such package"), ts=101.0))
    log(ComponentState(tenant="acme", component="worker", state="crashed", detail="exited 1", ts=102.0))
    recs = eventlog.read(tmp_path)
    assert [r["kind"] for r in recs] == ["sync", "fail", "crash"]
    assert recs[0]["files"] == ["examples/shop/web/templates/index.html"] and recs[0]["cost_ms"] == 38.2
    assert recs[1]["outcome"] == "failed" and recs[1]["detail"][-1] == "E: no such package"
    assert recs[2]["tenants"] == ["acme"] and "exited 1" in recs[2]["message"]
    assert oct(eventlog.log_path(tmp_path).stat().st_mode & 0o777) == "0o600"


def test_secret_values_never_reach_the_disk(tmp_path: Path) -> None:
    masker = Masker(["hunter2-secret-value"])
    log = eventlog.EventLog(tmp_path, mask=masker.mask)
    log(Timeline(kind="fail", message="redeploy failed: password hunter2-secret-value rejected",
                 detail=("DATABASE_PASSWORD=hunter2-secret-value",), ts=1.0))
    text = eventlog.log_path(tmp_path).read_text()
    assert "hunter2-secret-value" not in text and "redeploy failed" in text


def test_the_log_is_bounded_and_rotated(tmp_path: Path) -> None:
    log = eventlog.EventLog(tmp_path, max_bytes=2_000, keep=2)
    for i in range(100):
        log(sync(f"f{i}.html", 1000.0 + i))
    files = eventlog.files_oldest_first(tmp_path, keep=5)
    assert [p.name for p in files] == ["events.jsonl.2", "events.jsonl.1", "events.jsonl"]
    assert all(p.stat().st_size <= 2_000 for p in files)
    recs = eventlog.read(tmp_path)
    assert recs[-1]["files"] == ["examples/shop/web/templates/f99.html"]  # the newest kept, in order
    assert [r["ts"] for r in recs] == sorted(r["ts"] for r in recs)


def test_read_filters_by_tenant_and_age_and_skips_a_torn_line(tmp_path: Path) -> None:
    log = eventlog.EventLog(tmp_path)
    log(sync("a.html", 10.0, ("acme",)))
    log(sync("b.html", 20.0, ("globex",)))
    with eventlog.log_path(tmp_path).open("a") as f:
        f.write('{"kind": "sync", "ts": 3')  # a writer killed mid-line
    log(sync("c.html", 30.0, ("acme", "globex")))
    assert [r["files"][0][-6:] for r in eventlog.read(tmp_path, {"acme"})] == ["a.html", "c.html"]
    assert [r["files"][0][-6:] for r in eventlog.read(tmp_path, since=15.0)] == ["b.html", "c.html"]


def test_follow_yields_what_is_appended_later_even_across_a_rotation(tmp_path: Path) -> None:
    log = eventlog.EventLog(tmp_path, max_bytes=600, keep=1)
    log(sync("old.html", 1.0))
    got: list[str] = []
    done = threading.Event()

    def reader() -> None:
        for rec in eventlog.follow(tmp_path, poll=0.01, stop=done.is_set):
            got.append(rec["files"][0].rsplit("/", 1)[1])
            if len(got) == 4:
                done.set()

    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.1)
    for i in range(4):
        log(sync(f"new{i}.html", 2.0 + i))
        time.sleep(0.05)
    t.join(5)
    done.set()
    assert got == [f"new{i}.html" for i in range(4)]


def test_history_gives_a_new_session_the_recent_timeline(tmp_path: Path) -> None:
    log = eventlog.EventLog(tmp_path)
    for i in range(60):
        log(sync(f"f{i}.html", 100.0 + i))
    past = eventlog.history(tmp_path, n=5)
    assert len(past) == 5 and past[-1].files == ("examples/shop/web/templates/f59.html",)
    assert past[-1].kind == "sync" and past[-1].ts == 159.0 and past[-1].cost_ms == 38.2


def test_ages_and_plain_lines() -> None:
    assert parse_age("10m") == 600 and parse_age("30s") == 30 and parse_age("2h") == 7200 and parse_age("5") == 5
    with pytest.raises(DevenvError) as exc:
        parse_age("ten minutes")
    assert "10m" in exc.value.hint
    rec = eventlog.record(sync("index.html", 1.0))
    assert rec is not None
    line = format_record(rec)
    assert "web (acme): synced 1 file(s) [index.html]" in line and "in 38 ms" in line


def test_devenv_events_json_prints_one_object_per_line(sample: Path) -> None:
    log = eventlog.EventLog(sample)
    log(sync("index.html", time.time() - 3600, ("acme",)))
    log(sync("base.html", time.time(), ("globex",)))
    env = {**os.environ, "DEVENV_ROOT": str(sample)}

    def events(*args: str) -> list[dict[str, object]]:
        cp = subprocess.run([sys.executable, "-m", "devenv.cli", "events", "--json", *args], cwd=sample,
                            env=env, capture_output=True, text=True, timeout=60, check=True)
        return [json.loads(line) for line in cp.stdout.splitlines()]

    assert [e["files"] for e in events("--since", "2h")] == [["examples/shop/web/templates/index.html"],
                                                             ["examples/shop/web/templates/base.html"]]


HAND_EDITED = [
    '{"kind": "sync", "ts": "yesterday", "tenants": ["acme"]}',  # a time that is not a number
    '{"kind": 5, "ts": 100}',  # a kind that is not a name
    '{"kind": "sync", "ts": 1e308}', '{"kind": "sync", "ts": -1}', '{"kind": "sync", "ts": true}',
    '[1, 2]', '"text"', 'null',
]


def test_hand_edited_lines_are_skipped_or_typed_never_a_traceback(tmp_path: Path) -> None:
    path = eventlog.log_path(tmp_path)
    path.parent.mkdir(parents=True)
    odd = '{"kind": "sync", "ts": 150, "tenants": 5, "component": [1], "message": {"a": 1}, "files": "x", "cost_ms": "9"}'
    path.write_text("\n".join([*HAND_EDITED, odd, json.dumps(eventlog.record(sync("a.html", 200.0)))]) + "\n")
    recs = eventlog.read(tmp_path)
    assert [r["ts"] for r in recs] == [150, 200.0]
    assert recs[0]["tenants"] == [] and recs[0]["component"] == "[1]" and recs[0]["files"] == []
    assert recs[0]["cost_ms"] is None and recs[0]["message"] == "{'a': 1}"
    assert [r["ts"] for r in eventlog.read(tmp_path, {"acme"}, since=120.0)] == [200.0]
    assert all(format_record(r) for r in recs) and len(eventlog.history(tmp_path)) == 2


def test_a_log_that_is_a_fifo_is_refused_never_read_blocking(tmp_path: Path) -> None:
    path = eventlog.log_path(tmp_path)
    path.parent.mkdir(parents=True)
    os.mkfifo(path)
    with pytest.raises(DevenvError, match="is a FIFO"):
        eventlog.read(tmp_path)
    assert eventlog.history(tmp_path) == ()  # a new session starts without history, it does not hang
