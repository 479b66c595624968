"""Bounded log buffers: what the log pane can show, with memory that stays flat.

A noisy component must neither grow memory without bound (k9s#1188: 30 GB after an hour of
tailing) nor push a quiet component's history out. So each component keeps its own ring of at most
``per_key`` lines, and when the total passes ``total`` the largest ring gives up its oldest lines.
"""

from __future__ import annotations

import heapq
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from devenv.events import LogLine

Key = tuple[str, str]  # (tenant, component)
Matcher = Callable[[str], bool]

PER_COMPONENT = 10_000
TOTAL = 50_000


@dataclass(frozen=True, slots=True)
class LogRecord:
    seq: int
    ts: float
    tenant: str
    component: str
    line: str


@dataclass(frozen=True)
class Scope:
    """Which logs the pane shows: whole tenants (including components not seen yet) and/or
    single components. Empty means nothing."""

    tenants: frozenset[str] = frozenset()
    keys: frozenset[Key] = frozenset()

    def __contains__(self, key: Key) -> bool:
        return key[0] in self.tenants or key in self.keys

    def tenant_names(self) -> set[str]:
        return set(self.tenants) | {t for t, _ in self.keys}


@dataclass
class LogStore:
    per_key: int = PER_COMPONENT
    total: int = TOTAL
    _rings: dict[Key, deque[LogRecord]] = field(default_factory=dict)
    _count: int = 0
    _seq: int = 0

    def __len__(self) -> int:
        return self._count

    def components(self) -> list[Key]:
        return list(self._rings)

    def extend(self, lines: Iterable[LogLine]) -> list[LogRecord]:
        """Store ``lines`` and return them as records (in order) for the live view."""
        out = [self._add(ev) for ev in lines]
        self._evict()
        return out

    def _add(self, ev: LogLine) -> LogRecord:
        key = (ev.tenant, ev.component)
        ring = self._rings.get(key)
        if ring is None:
            ring = self._rings[key] = deque(maxlen=self.per_key)
        if len(ring) == self.per_key:
            self._count -= 1  # the deque drops its oldest on append
        self._seq += 1
        rec = LogRecord(self._seq, ev.ts, ev.tenant, ev.component, ev.line)
        ring.append(rec)
        self._count += 1
        return rec

    def _evict(self) -> None:
        while self._count > self.total:
            ring = max(self._rings.values(), key=len)
            drop = min(len(ring), self._count - self.total)
            for _ in range(drop):
                ring.popleft()
            self._count -= drop

    def view(self, scope: Scope, match: Matcher | None = None, limit: int | None = None) -> list[LogRecord]:
        """The records in ``scope`` that ``match``, oldest first, at most the last ``limit``."""
        rings = [ring for key, ring in self._rings.items() if key in scope]
        merged: Iterator[LogRecord] = heapq.merge(*rings, key=lambda r: r.seq)
        if match is not None:
            merged = (r for r in merged if match(r.line))
        if limit is None:
            return list(merged)
        return list(deque(merged, maxlen=limit))


def compile_filter(pattern: str) -> Matcher | None:
    """A case-insensitive regex; a pattern that is not a valid regex is matched as plain text.

    Returns None for an empty pattern (no filtering)."""
    if not pattern:
        return None
    try:
        rx = re.compile(pattern, re.IGNORECASE)
    except re.error:
        needle = pattern.lower()
        return lambda line: needle in line.lower()
    return lambda line: rx.search(line) is not None
