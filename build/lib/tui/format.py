"""Pure text formatting for the TUI: state words, symbols, progress bars, log and timeline lines.

Kept free of widgets so it can be unit-tested and so every pane speaks the same words. Meaning is
always carried by a word or a symbol; styles only add colour on top (colour-blind users, NO_COLOR,
which Textual honours by rendering monochrome).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import urlparse

from rich.text import Text

from devenv.engine.state import BuildView, ComponentView, State
from devenv.events import Timeline

# state -> (symbol, word, style)
COMPONENT_STATES: dict[str, tuple[str, str, str]] = {
    "pending": ("·", "pending", "dim"),
    "building": ("◐", "building", "yellow"),
    "starting": ("…", "starting", "yellow"),
    "running": ("●", "up", "green"),
    "healthy": ("✓", "ok", "green"),
    "unhealthy": ("!", "unhealthy", "bold red"),
    "crashed": ("✗", "crashed", "bold red"),
    "stopped": ("○", "stopped", "dim"),
    "synced": ("✓", "synced", "green"),
}

TENANT_STATES: dict[str, tuple[str, str, str]] = {
    "stopped": ("○", "stopped", "dim"),
    "building": ("◐", "building", "yellow"),
    "starting": ("…", "starting", "yellow"),
    "up": ("✓", "healthy", "green"),
    "degraded": ("!", "degraded", "bold red"),
    "stopping": ("…", "stopping", "yellow"),
}

TIMELINE_KINDS: dict[str, tuple[str, str]] = {
    "sync": ("⇄", "cyan"),
    "rebuild": ("↻", "yellow"),
    "restart": ("↻", "yellow"),
    "redeploy": ("↻", "yellow"),
    "build": ("◐", "yellow"),
    "up": ("▲", "green"),
    "down": ("▼", "dim"),
    "fail": ("✗", "bold red"),
    "info": ("·", ""),
    "warn": ("!", "yellow"),
}

SELECTED_MARK = "■ "
UNSELECTED_MARK = "  "


def hhmmss(ts: float, tz: tzinfo | None = None) -> str:
    """Wall-clock time of an event; ``tz`` is fixed in tests so snapshots do not depend on TZ."""
    if tz is None:
        return time.strftime("%H:%M:%S", time.localtime(ts))
    return datetime.fromtimestamp(ts, tz).strftime("%H:%M:%S")


def short_tag(image: str) -> str:
    """``registry/shop-web:a41c9e2f...`` -> ``a41c9e2``: enough to tell two builds apart."""
    if not image:
        return ""
    tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else image
    tag = tag.removeprefix("sha256:")
    return tag[:7]


def image_repo(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    return image.rsplit(":", 1)[0] if ":" in last else image


def port_of(url: str) -> str:
    """``http://127.0.0.1:18001/`` -> ``:18001``; the port is what tells tenants apart locally."""
    if not url:
        return ""
    try:
        port = urlparse(url).port
    except ValueError:
        return ""
    return f":{port}" if port else ""


def progress_bar(step: int, total: int, width: int = 7) -> str:
    if total <= 0:
        return "[" + "-" * width + "]"
    done = max(0, min(width, round(width * step / total)))
    return "[" + "#" * done + "-" * (width - done) + "]"


def build_for(state: State, comp: ComponentView) -> BuildView | None:
    """The build of the image this component runs.

    The engine keys builds by image name (``web``); components carry a full reference
    (``devenv/shop-web:a41c9e2``). Match the repository, its last segment, that segment without the
    ``<app>-`` prefix, else the component's own name.
    """
    if not state.builds:
        return None
    repo = image_repo(comp.image)
    last = repo.rsplit("/", 1)[-1]
    candidates = (repo, last, last.removeprefix(f"{state.app}-") if state.app else "", comp.component)
    for name in candidates:
        if name and name in state.builds:
            return state.builds[name]
    for b in state.builds.values():
        if b.tag and comp.image.endswith(b.tag):
            return b
    return None


def _build_status(build: BuildView) -> Text | None:
    if build.status == "building":
        text = Text(f"build {build.step}/{build.total} {progress_bar(build.step, build.total)}", "yellow")
        if build.cached_steps:
            text.append(f" {build.cached_steps} cached", "dim")
        return text
    if build.status == "waiting":
        return Text(f"… {build.reason or 'waiting'}", "dim")
    if build.status == "failed":
        return Text("✗ build failed", "bold red")
    return None


def component_label(state: State, comp: ComponentView, selected: bool, name_width: int) -> Text:
    """One tree line: ``web      ✓ ok        :18001  a41c9e2 cached``."""
    text = Text(SELECTED_MARK if selected else UNSELECTED_MARK, "bold")
    text.append(comp.component.ljust(name_width) + " ")
    build = build_for(state, comp)
    status = _build_status(build) if build else None
    still_up = comp.state in ("healthy", "running", "synced")
    if status is not None and not (build and build.status == "failed" and still_up):
        return text.append_text(status)
    symbol, word, style = COMPONENT_STATES.get(comp.state, ("?", comp.state, ""))
    text.append(f"{symbol} {word}".ljust(11), style)  # "… starting" is 10: keep a space before the port
    text.append(port_of(comp.url).ljust(7))
    text.append(short_tag(comp.image), "dim")
    if build and build.status == "cached":
        text.append(" cached", "dim")
    elif build and build.status == "failed":  # still serving the previous image
        text.append(" ✗ build failed", "bold red")
    if comp.detail:
        text.append(f" ({comp.detail})", "dim")
    return text


def tenant_label(state: State, tenant: str, selected: bool) -> Text:
    """A tenant line: ``acme  ✓ healthy 4/4``."""
    view = state.tenants.get(tenant)
    name = view.state if view else "stopped"
    symbol, word, style = TENANT_STATES.get(name, ("?", name, ""))
    ready, total = state.ready_count(tenant)
    if name == "up" and total and ready < total:
        symbol, word, style = TENANT_STATES["degraded"]
    text = Text(SELECTED_MARK if selected else UNSELECTED_MARK, "bold")
    text.append(tenant, "dim" if name == "stopped" else "bold")  # not running: dim, and says so
    text.append("  ")
    text.append(f"{symbol} {word}", style)
    if total:
        text.append(f" {ready}/{total}")
    if view and view.detail:
        text.append(f" ({view.detail})", "dim")
    return text


def timeline_label(ev: Timeline, tz: tzinfo | None = None) -> Text:
    """``12:04:12 ⇄ sync web (acme, globex) synced templates/index.html in 38 ms``."""
    symbol, style = TIMELINE_KINDS.get(ev.kind, ("·", ""))
    text = Text(hhmmss(ev.ts, tz) + " ", "dim")
    text.append(f"{symbol} {ev.kind:<7} ", style)
    if ev.component:
        text.append(ev.component, "bold")
        text.append(" ")
    if ev.tenants:
        text.append(f"({', '.join(ev.tenants)}) ")
    text.append(ev.message)
    if ev.cost_ms is not None:
        text.append(f" in {format_ms(ev.cost_ms)}", "dim")
    if ev.detail:
        text.append("  (enter: details)", "dim italic")
    return text


def format_ms(ms: float) -> str:
    return f"{ms:,.0f} ms" if ms < 10_000 else f"{ms / 1000:,.1f} s"


def log_prefix(ts: float, tenant: str, component: str, width: int, with_tenant: bool,
               tz: tzinfo | None = None) -> str:
    who = f"{tenant}/{component}" if with_tenant else component
    return f"{hhmmss(ts, tz)} {who.ljust(width)} "


# -- structured (JSON) log lines ------------------------------------------------------------------

TS_KEYS = ("ts", "time", "timestamp", "@timestamp", "asctime", "t")
LEVEL_KEYS = ("level", "lvl", "severity", "levelname", "log.level")
MESSAGE_KEYS = ("msg", "message", "event", "text")
LEVEL_WORDS = {"warning": "WARN", "critical": "CRIT", "fatal": "FATAL", "information": "INFO"}


@dataclass(frozen=True)
class Structured:
    """A JSON log line taken apart: the app's own time (when it has one), level, message and the
    remaining fields, in the line's order."""

    ts: float | None
    level: str
    message: str
    fields: tuple[tuple[str, str], ...]


def parse_structured(line: str) -> Structured | None:
    """The parts of a JSON object line, or None for any other line (shown as it is)."""
    text = line.strip()
    if not (text.startswith("{") and text.endswith("}")):
        return None
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    ts_key, ts = _first(obj, TS_KEYS, _epoch)
    level_key, level = _first(obj, LEVEL_KEYS, lambda v: str(v) if isinstance(v, str | int) else None)
    msg_key, message = _first(obj, MESSAGE_KEYS, lambda v: v if isinstance(v, str) else None)
    rest = tuple((k, _value(v)) for k, v in obj.items() if k not in (ts_key, level_key, msg_key))
    return Structured(ts, _level_word(level or ""), message or "", rest)


def _first(obj: dict[str, Any], keys: tuple[str, ...], conv: Callable[[Any], Any]) -> tuple[str | None, Any]:
    for key in keys:
        if key in obj and (value := conv(obj[key])) is not None:
            return key, value
    return None, None


def _epoch(value: Any) -> float | None:
    """ISO-8601 text or epoch seconds/milliseconds as epoch seconds; None when it is neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) / 1000 if value > 1e11 else float(value)
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        return dt.timestamp()
    return None


def _level_word(level: str) -> str:
    word = level.strip().lower()
    return LEVEL_WORDS.get(word, word.upper()[:5])


def _value(v: Any) -> str:
    if isinstance(v, str):
        return json.dumps(v) if (not v or any(c.isspace() or c in "\"=" for c in v)) else v
    return json.dumps(v, separators=(",", ":"), default=str)


def structured_text(s: Structured, known: dict[str, str] | None = None) -> str:
    """``INFO  job done id=812 ms=140``; fields repeating what the prefix already says
    (``known``: tenant, component) are left out."""
    known = known or {}
    pairs = " ".join(f"{k}={v}" for k, v in s.fields if known.get(k) != v)
    head = f"{s.level:<5} " if s.level else ""
    return f"{head}{s.message}{' ' + pairs if pairs else ''}".rstrip()
