"""Turn a noisy stream of file events into batches: one save, one batch; one checkout, one batch.

A batch closes when no event arrived for ``quiet`` seconds, or ``max_wait`` seconds after its first
event even if events keep coming (a process appending to a log in a context must not starve
every sync). Kinds are merged per path so the batch says what happened *overall*: a file
created then modified is ``created``; created then deleted is ``deleted``; deleted then written
again is ``modified``; created then renamed away (a save's temp file) is dropped.

Why ``DEFAULT_QUIET = 0.05`` s. The quiet period is pure latency added to every sync (compose
watch's 500 ms is 92 % of its sync time, see ANCHORS), so it should be as short as possible while
still turning a save into one batch. Measured here (2 cores, ext4/overlay, watchdog 7 inotify),
from event to event as the observer thread dispatches them:

* one save, every way editors do it: 1 MB written in 4 KiB or 64 KiB chunks spans 2-8 ms of events
  (widest gap 1-8 ms); truncate+write 1 ms; write-temp+``os.replace`` under 2 ms. 50 ms is more
  than six times the widest gap inside a save;
* a save can never be acted on half-written *for good*: the writer's final ``close()`` emits one
  more event (inotify ``IN_CLOSE_WRITE``), so even a writer stalling longer than ``quiet``
  mid-file produces a second batch carrying the complete file. Too short a quiet period costs an
  occasional extra sync, never a stale container.

Why ``DEFAULT_SAVED_QUIET = 0.01`` s. A batch of *one* path whose last event finished the write
(inotify ``IN_CLOSE_WRITE``, watchdog's ``FileClosedEvent``; the destination of a rename; a
deletion) is a finished save: nothing more is coming for it, so waiting the full quiet period is
pure latency (40 of the ~100 ms a sync took). It still waits 10 ms, not 0: a write-temp-then-rename
save closes the temp file and renames it within 2 ms here, and the rename removes the temp file
from the batch (see ``merge_kind``); delivering at the close would sync the temp file first. Two or
more paths keep the normal quiet period: a checkout or a build tool writing many files must stay
one batch, and its first finished file must not leave alone.

Bulk operations are different: ``git checkout`` of 5,000 files showed gaps of 45-76 ms between
events (the kernel and watchdog catching up on new directories). So once a batch holds
``DEFAULT_BULK_AFTER`` paths it is evidently not a save, and its quiet period stretches to
``DEFAULT_BULK_QUIET = 0.3`` s: a checkout becomes one batch (one rebuild, not a rebuild of a
half-switched tree followed by another) while a single save still waits only 50 ms.

Why ``DEFAULT_MAX_WAIT = 5.0`` s. It only matters while events never pause: the same 5,000-file
checkout emitted events for 2.5-2.8 s here, so 5 s keeps it one batch with headroom; and a file
that some process appends to forever (a log inside a context that ``.dockerignore`` does not
exclude) delays everything else by at most 5 s rather than starving it. Tilt uses 10 s.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path

from devenv.watch.mapping import ChangeKind

DEFAULT_QUIET = 0.05
DEFAULT_SAVED_QUIET = 0.01
DEFAULT_BULK_AFTER = 32
DEFAULT_BULK_QUIET = 0.3
DEFAULT_MAX_WAIT = 5.0

Batch = dict[Path, ChangeKind]
log = logging.getLogger(__name__)


def merge_kind(old: ChangeKind, new: ChangeKind) -> ChangeKind | None:
    """What two successive events on one path amount to; ``None``: nothing at all.

    A file created and then renamed away within one batch is a save's temp file (write
    ``x.tmp``, rename onto ``x``): the container never saw it, so it leaves the batch."""
    if new == "moved":
        return None if old == "created" else "moved"
    if new == "deleted":
        return "deleted"
    if old in ("deleted", "moved"):
        return "modified"  # it existed before the batch and exists now: a replacement
    if old == "created":
        return "created"  # still new to the container, whatever was written into it since
    return "modified"


class Coalescer:
    """Thread-safe batcher with one daemon thread that both times batches and delivers them.

    ``add`` may be called from any thread (watchdog's observer thread in practice); ``on_batch``
    always runs on the coalescer's own thread, one batch at a time, so a slow consumer delays the
    next batch rather than running concurrently with itself. Events arriving while ``on_batch``
    runs start the next batch. ``busy()``, if given, says the producer still has events queued
    (the watcher passes its observer's backlog); a batch never closes on quiet while it is true.
    """

    def __init__(self, quiet: float = DEFAULT_QUIET, max_wait: float = DEFAULT_MAX_WAIT,
                 on_batch: Callable[[Batch], None] | None = None, *, bulk_after: int = DEFAULT_BULK_AFTER,
                 bulk_quiet: float | None = None, busy: Callable[[], bool] | None = None,
                 name: str = "devenv-coalesce", saved_quiet: float = DEFAULT_SAVED_QUIET) -> None:
        if quiet <= 0 or max_wait < quiet:
            raise ValueError("need 0 < quiet <= max_wait")
        self.quiet = quiet
        self.saved_quiet = min(quiet, saved_quiet)
        self.max_wait = max_wait
        self.bulk_after = bulk_after
        self.bulk_quiet = max(quiet, DEFAULT_BULK_QUIET if bulk_quiet is None else bulk_quiet)
        self._on_batch = on_batch or (lambda batch: None)
        self._busy = busy or (lambda: False)
        self._cond = threading.Condition()
        self._pending: Batch = {}
        self._unfinished: set[Path] = set()  # pending paths whose last event did not end a write
        self._first = 0.0
        self._last = 0.0
        self._closed = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def add(self, path: Path, kind: ChangeKind, finished: bool = False) -> None:
        """Record one event; cheap (a dict update under a lock), safe from any thread.
        ``finished``: the event ends a write to ``path`` (see the class)."""
        now = time.monotonic()
        with self._cond:
            if self._closed:
                return
            if not self._pending:
                self._first = now
            self._cond.notify()  # a new batch, or a finished save: either may bring the deadline closer
            self._last = now
            old = self._pending.get(path)
            merged = kind if old is None else merge_kind(old, kind)
            if merged is None:
                del self._pending[path]
            else:
                self._pending[path] = merged
            if finished or merged is None:
                self._unfinished.discard(path)
            else:
                self._unfinished.add(path)

    def pending(self) -> int:
        """Paths waiting in the open batch."""
        with self._cond:
            return len(self._pending)

    def close(self, flush: bool = True) -> None:
        """Stop the thread; deliver the open batch first unless ``flush`` is False."""
        with self._cond:
            self._closed = True
            if not flush:
                self._pending = {}
                self._unfinished = set()
            self._cond.notify()
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout=5)

    def _deadline(self) -> float:
        return min(self._last + self._quiet_now(), self._first + self.max_wait)

    def _quiet_now(self) -> float:
        """The quiet period the open batch needs: short for one finished save, long for bulk."""
        if len(self._pending) >= self.bulk_after:
            return self.bulk_quiet
        if len(self._pending) == 1 and not self._unfinished:
            return self.saved_quiet
        return self.quiet

    def _next_batch(self) -> Batch | None:
        """Block until a batch is due (returned) or the coalescer closed with nothing open (None)."""
        with self._cond:
            while True:
                if self._pending and (self._closed or self._due()):
                    batch, self._pending = self._pending, {}
                    self._unfinished = set()
                    return batch
                if self._closed:
                    return None
                self._cond.wait(self._wait_time())

    def _due(self) -> bool:
        """Quiet long enough (or waited long enough), and the producer has no backlog: a silence
        that only means the observer thread fell behind must not split a batch."""
        now = time.monotonic()
        if now >= self._first + self.max_wait:
            return True
        return now >= self._deadline() and not self._busy()

    def _wait_time(self) -> float | None:
        if not self._pending:
            return None
        remaining = self._deadline() - time.monotonic()
        return remaining if remaining > 0 else min(self._quiet_now(), 0.02)  # busy producer: poll briefly

    def _run(self) -> None:
        while (batch := self._next_batch()) is not None:
            try:
                self._on_batch(batch)
            except Exception:  # a consumer bug must not stop watching for good
                log.exception("on_batch failed for a batch of %d path(s)", len(batch))

    def __enter__(self) -> Coalescer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
