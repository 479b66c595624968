"""TUI under a log flood: key-press latency and memory while 5,000 lines/s stream in.

Not a test: ``python bench/tui.py --seconds 60 --rate 5000``. Runs the real app headless
(``App.run_test``) over the demo engine, floods it with log lines on the app's loop (as a real
engine's log streamers would), presses ``f`` every half second and measures the time from the
press until the action handler runs. Memory is VmRSS from /proc/self/status, before and after the
flood; with bounded buffers it should level off instead of growing with the line count.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devenv.events import LogLine  # noqa: E402
from tui.app import DevenvApp  # noqa: E402
from tui.demo import DemoEngine  # noqa: E402


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class QuietDemo(DemoEngine):
    """The demo's start without its background trickle: the bench brings its own flood."""

    async def _trickle(self) -> None:
        return None


class TimedApp(DevenvApp):
    handled: list[float]

    def action_follow(self) -> None:
        self.handled.append(time.perf_counter())
        super().action_follow()


async def flood(engine: DemoEngine, rate: int, seconds: float, counter: list[int]) -> None:
    """Emit ``rate`` lines/s in 10 ms slices, catching up on drift, across 2 tenants x 3 components."""
    start = time.perf_counter()
    sent = 0
    keys = [(t, c) for t in ("acme", "globex") for c in ("web", "api", "worker")]
    while (elapsed := time.perf_counter() - start) < seconds:
        due = int(elapsed * rate)
        for i in range(sent, due):
            t, c = keys[i % len(keys)]
            engine.emit(LogLine(tenant=t, component=c, line=f"GET /orders/{i} 200 in {i % 97} ms user=*** ok"))
        sent = due
        counter[0] = sent
        await asyncio.sleep(0.01)


async def run(seconds: float, rate: int, size: tuple[int, int]) -> dict[str, float]:
    engine = QuietDemo(speed=0)
    app = TimedApp(engine, open_url=lambda url: None)
    app.handled = []
    async with app.run_test(size=size) as pilot:
        await pilot.pause(0.5)
        rss_before = rss_mb()
        counter = [0]
        task = asyncio.create_task(flood(engine, rate, seconds, counter))
        peak = rss_before
        pressed: list[float] = []
        presses: list[asyncio.Task[None]] = []
        while not task.done():
            await asyncio.sleep(0.5)
            if len(app.handled) == len(pressed):  # one key in flight at a time
                pressed.append(time.perf_counter())
                presses.append(asyncio.create_task(pilot.press("f")))
            peak = max(peak, rss_mb())
        await task
        await asyncio.gather(*presses)
        await pilot.pause(0.3)
        latencies = [h - p for p, h in zip(pressed, app.handled, strict=False)]
        rss_after = rss_mb()
        stored = len(app.store)
        shown = len(app.logs.log_widget.lines)
        await pilot.press("ctrl+c")
    latencies.sort()
    return {
        "lines": counter[0], "rate": counter[0] / seconds, "presses": len(latencies),
        "p50_ms": statistics.median(latencies) * 1000 if latencies else float("nan"),
        "p95_ms": latencies[int(len(latencies) * 0.95) - 1] * 1000 if latencies else float("nan"),
        "max_ms": latencies[-1] * 1000 if latencies else float("nan"),
        "rss_before": rss_before, "rss_after": rss_after, "rss_peak": peak,
        "stored": stored, "shown": shown,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--rate", type=int, default=5000, help="log lines per second")
    args = ap.parse_args()
    r = asyncio.run(run(args.seconds, args.rate, (160, 48)))
    print(f"flood: {r['lines']:,} lines in {args.seconds:.0f} s ({r['rate']:,.0f} lines/s)")
    print(f"key press -> handler ({r['presses']} presses): p50 {r['p50_ms']:.1f} ms, "
          f"p95 {r['p95_ms']:.1f} ms, max {r['max_ms']:.1f} ms")
    print(f"RSS: {r['rss_before']:.1f} MB before, {r['rss_after']:.1f} MB after, peak {r['rss_peak']:.1f} MB")
    print(f"buffers: {r['stored']:,} lines stored (bound 50,000), {r['shown']:,} in the log view")
    return 0


if __name__ == "__main__":
    sys.exit(main())
