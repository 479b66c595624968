"""One JSON line per event on stdout, always carrying the tenant; secrets are redacted."""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TextIO

from shoplib.config import SECRET_ENV

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}
REDACTED = "***"
_SECRET_KEY = re.compile(r"pass(word)?|secret|token|api[_-]?key|credential", re.IGNORECASE)


def secret_values(env: Mapping[str, str]) -> tuple[str, ...]:
    """The values of the secret variables that are set (empty ones cannot leak)."""
    return tuple(v for k in SECRET_ENV if (v := env.get(k, "")))


def redact(value: Any, secrets: tuple[str, ...]) -> Any:
    """``value`` with every occurrence of a secret value masked (strings, nested dicts and lists)."""
    if isinstance(value, str):
        for secret in secrets:
            value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, Mapping):
        return {k: REDACTED if _SECRET_KEY.search(str(k)) else redact(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact(v, secrets) for v in value]
    return value


def format_event(
    event: str,
    fields: Mapping[str, Any],
    *,
    tenant: str,
    component: str,
    level: str = "info",
    secrets: tuple[str, ...] = (),
    now: datetime | None = None,
) -> str:
    """The JSON line for one event. Fields whose name looks secret are masked whatever their value."""
    ts = (now or datetime.now(UTC)).isoformat(timespec="milliseconds")
    record: dict[str, Any] = {
        "ts": ts,
        "level": level,
        "tenant": tenant,
        "component": component,
        "event": event,
    }
    for key, value in redact(dict(fields), secrets).items():
        record.setdefault(key, value)
    return json.dumps(record, default=str, separators=(",", ":"), sort_keys=False)


class Logger:
    """``log.info("job_done", id=3)`` prints one line; lines from threads never interleave."""

    def __init__(
        self, component: str, env: Mapping[str, str] | None = None, stream: TextIO | None = None
    ) -> None:
        env = os.environ if env is None else env
        self.component = component
        self.tenant = env.get("TENANT", "dev")
        self.threshold = LEVELS.get(env.get("LOG_LEVEL", "info").lower(), LEVELS["info"])
        self._secrets = secret_values(env)
        self._stream = stream
        self._lock = threading.Lock()

    def log(self, level: str, event: str, **fields: Any) -> None:
        if LEVELS.get(level, 20) < self.threshold:
            return
        line = format_event(
            event, fields, tenant=self.tenant, component=self.component, level=level, secrets=self._secrets
        )
        stream = self._stream or sys.stdout
        with self._lock:
            stream.write(line + "\n")
            stream.flush()

    def debug(self, event: str, **fields: Any) -> None:
        self.log("debug", event, **fields)

    def info(self, event: str, **fields: Any) -> None:
        self.log("info", event, **fields)

    def warning(self, event: str, **fields: Any) -> None:
        self.log("warning", event, **fields)

    def error(self, event: str, **fields: Any) -> None:
        self.log("error", event, **fields)
