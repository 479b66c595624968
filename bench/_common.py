"""Helpers the benchmarks share: a private copy of the sample, an HTTP poller, summary statistics,
and CPU time of a process tree read from ``/proc``. Not a test; nothing here prints."""

from __future__ import annotations

import http.client
import os
import shutil
import statistics
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE_PARTS = ("devenv.yaml", "devenv.local.yaml", "profiles", "compose", "examples")


def copy_sample(dest: Path, app: str, port_base: int | None = None) -> Path:
    """A private copy of the bundled sample under its own app name (and port range)."""
    dest.mkdir(parents=True, exist_ok=True)
    for part in SAMPLE_PARTS:
        src = REPO / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=shutil.ignore_patterns("__pycache__", ".devenv"))
        elif src.is_file():
            shutil.copy2(src, dest / part)
    yaml = dest / "devenv.yaml"
    text = yaml.read_text().replace("name: shop", f"name: {app}", 1)
    if port_base is not None:
        text = text.replace("port_base: 18000", f"port_base: {port_base}", 1)
    yaml.write_text(text)
    return dest


def get(url: str, timeout: float = 2.0) -> str | None:
    """The body of a GET, or None on any error (refused, reset, timeout, non-2xx)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            body: bytes = r.read()
            return body.decode("utf-8", "replace")
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError):
        return None


def poll_until(url: str, marker: str, t0: float, timeout: float, interval: float = 0.01) -> float | None:
    """Milliseconds from ``t0`` (``perf_counter``) until ``url`` serves ``marker``; None on timeout."""
    deadline = t0 + timeout
    while time.perf_counter() < deadline:
        body = get(url)
        if body is not None and marker in body:
            return (time.perf_counter() - t0) * 1000
        time.sleep(interval)
    return None


@dataclass(frozen=True)
class Summary:
    n: int
    p50: float
    p10: float
    p90: float
    lo: float
    hi: float


def summarise(values: list[float]) -> Summary | None:
    if not values:
        return None
    if len(values) == 1:
        v = values[0]
        return Summary(1, v, v, v, v, v)
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    return Summary(len(values), statistics.median(values), deciles[0], deciles[-1], min(values), max(values))


def loadavg() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def _children() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = _stat_fields(int(entry))
        if stat is not None:
            kids.setdefault(int(stat[1]), []).append(int(entry))
    return kids


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat from the state on (index 0 = state, 1 = ppid, 11 = utime)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2:].split()


def tree_cpu_seconds(pid: int) -> float:
    """CPU time of ``pid`` and every live descendant, in seconds, summed over all their threads from
    ``/proc/<pid>/task/<tid>/schedstat`` (nanoseconds; utime/stime only count 10 ms ticks, too coarse
    for an idle process)."""
    kids = _children()
    total_ns = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        total_ns += _process_cpu_ns(p)
        stack += kids.get(p, [])
    return total_ns / 1e9


def _process_cpu_ns(pid: int) -> int:
    total = 0
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    for tid in tids:
        try:
            total += int(Path(f"/proc/{pid}/task/{tid}/schedstat").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue  # the thread ended
    return total


def get_cost_ms(url: str, n: int = 3) -> float:
    """Median milliseconds one GET of ``url`` takes (the polling client's own resolution)."""
    costs = []
    for _ in range(n):
        t0 = time.perf_counter()
        get(url)
        costs.append((time.perf_counter() - t0) * 1000)
    return statistics.median(costs)
