"""Plain-text output of engine events for ``--no-tui`` and ``--detach`` runs (stderr), so the same
engine serves a terminal, a CI log and a script."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from devenv.events import (
    BuildFinished,
    BuildStarted,
    BuildWaiting,
    ComponentState,
    EngineHealth,
    Event,
    LogLine,
    TenantState,
    Timeline,
    WatchStatus,
)

COLORS = ["36", "33", "35", "32", "34", "91", "92", "93", "94", "95", "96"]


class Printer:
    def __init__(self, out: TextIO = sys.stderr, logs: bool = True, color: bool | None = None) -> None:
        self.out = out
        self.logs = logs
        self.color = out.isatty() and not _no_color() if color is None else color
        self._palette: dict[str, str] = {}

    def __call__(self, ev: Event) -> None:
        line = self.format(ev)
        if line:
            self.out.write(line + "\n")
            self.out.flush()

    def _c(self, key: str, text: str) -> str:
        if not self.color:
            return text
        code = self._palette.setdefault(key, COLORS[len(self._palette) % len(COLORS)])
        return f"\x1b[{code}m{text}\x1b[0m"

    def format(self, ev: Event) -> str | None:
        stamp = time.strftime("%H:%M:%S", time.localtime(ev.ts))
        if isinstance(ev, LogLine):
            if not self.logs:
                return None
            return f"{self._c(ev.tenant + ev.component, f'{ev.tenant}/{ev.component}'):>20} | {ev.line}"
        if isinstance(ev, BuildStarted):
            return f"{stamp} build  {ev.image}: building ({ev.reason})" if ev.reason else f"{stamp} build  {ev.image}: building"
        if isinstance(ev, BuildWaiting):
            return None
        if isinstance(ev, BuildFinished):
            extra = f" {ev.error}" if ev.error else ""
            return f"{stamp} build  {ev.image}: {ev.status} {ev.tag} in {ev.seconds:.1f} s{extra}"
        if isinstance(ev, ComponentState):
            health = f" ({ev.health})" if ev.health and ev.health != ev.state else ""
            url = f" {ev.url}" if ev.url and ev.state in ("healthy", "running") else ""
            return f"{stamp} {ev.tenant}/{ev.component}: {ev.state}{health}{url}"
        if isinstance(ev, TenantState):
            return f"{stamp} {ev.tenant}: {ev.state}{' ' + ev.detail if ev.detail else ''}"
        if isinstance(ev, Timeline):
            tail = "".join(f"\n    {ln}" for ln in ev.detail[-15:]) if ev.kind == "fail" else ""
            return f"{stamp} {ev.kind:8} {ev.text()}{tail}"
        if isinstance(ev, EngineHealth):
            return None if ev.ok and not ev.detail else f"{stamp} engine {'ok' if ev.ok else 'DOWN'} {ev.detail}"
        if isinstance(ev, WatchStatus):
            return f"{stamp} watch  {'watching ' + str(ev.files) + ' files' if ev.watching else 'stopped'}"
        return None


def _no_color() -> bool:
    import os

    return bool(os.environ.get("NO_COLOR"))
