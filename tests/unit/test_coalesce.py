"""The coalescer: batching by quiet period and max wait, kind merging, its own delivery thread."""

from __future__ import annotations

import queue
import threading
import time
from pathlib import Path

import pytest

from devenv.watch.coalesce import Batch, Coalescer, merge_kind

TIMEOUT = 5.0


class Sink:
    """Collects batches (and the thread that delivered them) for assertions."""

    def __init__(self) -> None:
        self.batches: queue.Queue[Batch] = queue.Queue()
        self.threads: list[str] = []

    def __call__(self, batch: Batch) -> None:
        self.threads.append(threading.current_thread().name)
        self.batches.put(batch)

    def next(self) -> Batch:
        return self.batches.get(timeout=TIMEOUT)


@pytest.fixture
def sink() -> Sink:
    return Sink()


def test_a_burst_is_one_batch_and_kinds_merge(sink: Sink):
    with Coalescer(0.05, 2.0, sink) as c:
        c.add(Path("a"), "created")
        c.add(Path("a"), "modified")
        c.add(Path("b"), "modified")
        c.add(Path("b"), "deleted")
        batch = sink.next()
    assert batch == {Path("a"): "created", Path("b"): "deleted"}
    assert sink.batches.empty()  # close() joined the thread: nothing else was delivered


def test_events_separated_by_more_than_quiet_are_two_batches(sink: Sink):
    with Coalescer(0.02, 2.0, sink) as c:
        c.add(Path("a"), "modified")
        assert sink.next() == {Path("a"): "modified"}
        c.add(Path("b"), "modified")
        assert sink.next() == {Path("b"): "modified"}


def test_max_wait_cuts_a_stream_that_never_pauses(sink: Sink):
    stop = threading.Event()
    c = Coalescer(0.2, 0.3, sink)
    start = time.monotonic()

    def feed() -> None:
        i = 0
        while not stop.is_set():
            c.add(Path(f"f{i}"), "modified")
            i += 1
            time.sleep(0.005)

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        first = sink.next()  # the quiet period alone would never close this batch
        elapsed = time.monotonic() - start
    finally:
        stop.set()
        feeder.join()
        c.close(flush=False)
    assert len(first) > 1
    assert elapsed >= 0.3 - 0.01


def test_on_batch_runs_on_the_coalescer_thread(sink: Sink):
    with Coalescer(0.01, 1.0, sink, name="coalesce-test") as c:
        c.add(Path("a"), "modified")
        sink.next()
    assert sink.threads == ["coalesce-test"]


def test_add_from_many_threads_loses_nothing(sink: Sink):
    c = Coalescer(0.05, 30.0, sink, bulk_after=10**9)
    threads = [threading.Thread(target=lambda n=n: [c.add(Path(f"t{n}/{i}"), "created") for i in range(500)])
               for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    c.close()
    total: Batch = {}
    while not sink.batches.empty():
        total.update(sink.batches.get())
    assert len(total) == 8 * 500


def test_a_failing_consumer_does_not_stop_batching():
    got: queue.Queue[Batch] = queue.Queue()
    calls = 0

    def flaky(batch: Batch) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("consumer bug")
        got.put(batch)

    with Coalescer(0.01, 1.0, flaky) as c:
        c.add(Path("a"), "modified")
        while calls == 0:
            time.sleep(0.005)
        c.add(Path("b"), "modified")
        assert got.get(timeout=TIMEOUT) == {Path("b"): "modified"}


def test_close_flushes_or_drops(sink: Sink):
    c = Coalescer(10.0, 20.0, sink)
    c.add(Path("a"), "modified")
    c.close(flush=True)
    assert sink.next() == {Path("a"): "modified"}
    c = Coalescer(10.0, 20.0, sink)
    c.add(Path("b"), "modified")
    c.close(flush=False)
    assert sink.batches.empty()
    c.add(Path("c"), "modified")  # after close: ignored, no error
    assert c.pending() == 0


def test_temp_file_created_then_renamed_away_leaves_the_batch(sink: Sink):
    with Coalescer(0.05, 2.0, sink) as c:
        c.add(Path("x.py.tmp1234"), "created")
        c.add(Path("x.py.tmp1234"), "modified")
        c.add(Path("x.py.tmp1234"), "moved")
        c.add(Path("x.py"), "created")
        assert sink.next() == {Path("x.py"): "created"}


def test_bulk_batches_wait_longer_for_quiet(sink: Sink):
    with Coalescer(0.02, 10.0, sink, bulk_after=3, bulk_quiet=2.0) as c:
        for i in range(3):
            c.add(Path(f"f{i}"), "created")
        time.sleep(0.15)  # a gap longer than quiet, shorter than bulk_quiet: not a batch boundary
        c.add(Path("f3"), "created")
        c.close()
    assert sink.next() == {Path(f"f{i}"): "created" for i in range(4)}
    assert sink.batches.empty()


def test_invalid_periods_are_refused():
    with pytest.raises(ValueError):
        Coalescer(0, 1.0)
    with pytest.raises(ValueError):
        Coalescer(2.0, 1.0)


@pytest.mark.parametrize(("old", "new", "merged"), [
    ("created", "modified", "created"),
    ("created", "deleted", "deleted"),
    ("created", "moved", None),
    ("modified", "modified", "modified"),
    ("modified", "deleted", "deleted"),
    ("modified", "moved", "moved"),
    ("deleted", "created", "modified"),
    ("deleted", "modified", "modified"),
    ("moved", "created", "modified"),
    ("moved", "deleted", "deleted"),
])
def test_merge_kind(old, new, merged):
    assert merge_kind(old, new) == merged


def test_a_busy_producer_holds_the_batch_open(sink: Sink):
    backlog = threading.Event()
    backlog.set()
    with Coalescer(0.01, 10.0, sink, busy=backlog.is_set) as c:
        c.add(Path("a"), "created")
        with pytest.raises(queue.Empty):
            sink.batches.get(timeout=0.2)  # twenty quiet periods pass, the producer is still busy
        c.add(Path("b"), "created")
        backlog.clear()
        assert sink.next() == {Path("a"): "created", Path("b"): "created"}


def test_a_constant_backlog_still_delivers_at_max_wait(sink: Sink):
    """A producer that never catches up must not hold a batch forever: max wait wins over busy."""
    start = time.monotonic()
    with Coalescer(0.01, 0.3, sink, busy=lambda: True) as c:
        c.add(Path("a"), "modified")
        batch = sink.next()
        waited = time.monotonic() - start
    assert batch == {Path("a"): "modified"}
    assert 0.28 <= waited < 2.0


def test_one_finished_save_skips_the_quiet_period(sink: Sink):
    """A close-after-write ends a save: the batch leaves after saved_quiet, not quiet."""
    with Coalescer(2.0, 10.0, sink, saved_quiet=0.01) as c:
        start = time.monotonic()
        c.add(Path("a"), "modified")
        c.add(Path("a"), "modified", finished=True)
        batch = sink.next()
        waited = time.monotonic() - start
    assert batch == {Path("a"): "modified"}
    assert waited < 1.0  # the quiet period is 2 s


def test_a_close_arriving_later_wakes_the_waiting_batch(sink: Sink):
    """The coalescer already sleeps towards the long deadline when the close arrives: it must wake."""
    with Coalescer(2.0, 10.0, sink, saved_quiet=0.01) as c:
        start = time.monotonic()
        c.add(Path("a"), "modified")
        time.sleep(0.1)
        c.add(Path("a"), "modified", finished=True)
        sink.next()
        assert time.monotonic() - start < 1.0


def test_an_unfinished_write_keeps_the_full_quiet_period(sink: Sink):
    with Coalescer(0.4, 10.0, sink, saved_quiet=0.01) as c:
        c.add(Path("a"), "modified")  # written, not closed yet: more may come
        with pytest.raises(queue.Empty):
            sink.batches.get(timeout=0.2)
        assert sink.next() == {Path("a"): "modified"}


def test_two_finished_paths_keep_the_full_quiet_period(sink: Sink):
    """Several files are a tool at work (a checkout, a generator): they stay one batch."""
    with Coalescer(0.4, 10.0, sink, saved_quiet=0.01) as c:
        c.add(Path("a"), "created", finished=True)
        c.add(Path("b"), "created", finished=True)
        with pytest.raises(queue.Empty):
            sink.batches.get(timeout=0.2)
        time.sleep(0.05)
        c.add(Path("c"), "created", finished=True)
        assert sink.next() == {Path("a"): "created", Path("b"): "created", Path("c"): "created"}


def test_write_temp_then_rename_is_one_batch_of_the_real_file(sink: Sink):
    """The temp file's close is finished, but the rename right after it still joins the batch."""
    with Coalescer(0.4, 10.0, sink, saved_quiet=0.05) as c:
        c.add(Path("x.tmp"), "created")
        c.add(Path("x.tmp"), "modified", finished=True)
        c.add(Path("x.tmp"), "moved", finished=True)
        c.add(Path("x"), "created", finished=True)
        assert sink.next() == {Path("x"): "created"}
        assert sink.batches.empty()


def test_a_deletion_is_a_finished_change(sink: Sink):
    with Coalescer(2.0, 10.0, sink, saved_quiet=0.01) as c:
        start = time.monotonic()
        c.add(Path("gone"), "deleted", finished=True)
        assert sink.next() == {Path("gone"): "deleted"}
        assert time.monotonic() - start < 1.0
