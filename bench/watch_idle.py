"""Benchmark: what watching costs while nothing changes. Not a test.

Creates a tree of ``--files`` files (default 100,000, in directories of 100) under /tmp, starts
devenv's ``Watcher`` on it, and measures over ``--seconds`` (default 30) of idleness the CPU the
process spends (user + system: getrusage for itself, /proc/<pid>/stat for another process), as a
percentage of one core, plus the start-up cost (counting files and adding inotify watches) and
resident memory. An idle watcher should sit near 0 % (anchor 9: tilt#1379 burns 15-50 % CPU).

Run: ``.venv/bin/python bench/watch_idle.py [--files N] [--seconds S] [--keep]``.

``compose_watch_idle`` is the slot for the same figure measured on ``docker compose watch`` over
the same tree, so both can be printed side by side.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from devenv.watch.observer import Watcher, check_inotify, inotify_limits  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class IdleResult:
    tool: str
    files: int
    seconds: float
    cpu_seconds: float
    start_seconds: float | None = None
    rss_mb: float | None = None

    @property
    def cpu_percent(self) -> float:
        return 100.0 * self.cpu_seconds / self.seconds

    def line(self) -> str:
        start = f", start {self.start_seconds:.2f} s" if self.start_seconds is not None else ""
        rss = f", RSS {self.rss_mb:.0f} MB" if self.rss_mb is not None else ""
        if self.cpu_seconds == 0:
            rss += " (below the kernel's CPU accounting resolution)"
        return (f"{self.tool:<22} {self.files:>8,} files: {self.cpu_percent:6.3f} % of one core idle "
                f"({self.cpu_seconds:.4f} s CPU over {self.seconds:.0f} s){start}{rss}")


def cpu_seconds(pid: int | str = "self") -> float:
    """User + system CPU of a process: getrusage for this one (microsecond resolution), else
    /proc/<pid>/stat fields 14 and 15 (clock ticks, usually 10 ms)."""
    if pid == "self":
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS
    except (OSError, IndexError, ValueError):
        return float("nan")


def rss_mb(pid: int | str = "self") -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def make_tree(root: Path, files: int, per_dir: int = 100) -> None:
    """``files`` small files, ``per_dir`` to a directory, as a large monorepo context would be."""
    for i in range(files):
        d = root / f"pkg{i // per_dir:05d}"
        if i % per_dir == 0:
            d.mkdir(parents=True)
        (d / f"mod{i % per_dir}.py").write_bytes(b"x = 1\n")


def devenv_idle(root: Path, seconds: float) -> IdleResult:
    """Start a Watcher on ``root``, then measure this process's CPU while nothing changes."""
    batches: list[int] = []
    watcher = Watcher([root], lambda b: batches.append(len(b)))
    t0 = time.perf_counter()
    watcher.start()
    started = time.perf_counter() - t0
    try:
        time.sleep(1.0)  # let start-up work (watchdog's thread spin-up) settle before measuring
        cpu0, wall0 = cpu_seconds(), time.perf_counter()
        time.sleep(seconds)
        cpu1, wall1 = cpu_seconds(), time.perf_counter()
    finally:
        watcher.stop()
    if batches:
        print(f"warning: {len(batches)} batch(es) arrived while idle: something wrote into the tree")
    return IdleResult("devenv Watcher", watcher.file_count(), wall1 - wall0, cpu1 - cpu0, started, rss_mb())


def compose_watch_idle(root: Path, seconds: float) -> IdleResult | None:
    """The same measurement for ``docker compose watch`` over ``root``: for the lead to fill in
    (a compose file whose service builds ``root`` with a ``develop.watch`` sync rule, run
    ``docker compose watch`` in the background, sample ``cpu_seconds(pid)`` of the compose process
    over ``seconds``). Returns None until then, and the comparison line is skipped."""
    return None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--seconds", type=float, default=30.0)
    ap.add_argument("--keep", action="store_true", help="keep the generated tree")
    args = ap.parse_args(argv)

    root = Path(tempfile.mkdtemp(prefix="devenv-watch-idle-"))
    try:
        t0 = time.perf_counter()
        make_tree(root, args.files)
        print(f"tree: {args.files:,} files in {root} ({time.perf_counter() - t0:.1f} s to create)")
        dirs = args.files // 100 + 1
        print(f"inotify limits (watches, instances): {inotify_limits()}")
        advice = check_inotify(dirs)
        if advice:
            print(f"warning: {advice}")
        results = [devenv_idle(root, args.seconds)]
        other = compose_watch_idle(root, args.seconds)
        if other is not None:
            results.append(other)
        for r in results:
            print(r.line())
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
