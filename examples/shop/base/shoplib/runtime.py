"""Process lifecycle: prompt SIGTERM handling and retry-until-ready with backoff.

Every wait goes through ``Stopper.wait`` so a component that is still waiting for Postgres or Redis
exits as soon as ``docker compose down`` (or a kubelet) sends SIGTERM.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from shoplib.log import Logger

T = TypeVar("T")


class Stopped(Exception):
    """Raised out of a wait when the process was asked to stop."""


class Stopper:
    """Turns SIGTERM/SIGINT into an event every loop and wait can check."""

    def __init__(self) -> None:
        self.event = threading.Event()

    def install(self) -> Stopper:
        """Handle the signals (main thread only)."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, _frame: object) -> None:
        self.event.set()

    @property
    def stopped(self) -> bool:
        return self.event.is_set()

    def stop(self) -> None:
        self.event.set()

    def wait(self, seconds: float) -> None:
        """Sleep ``seconds`` unless asked to stop first; then raise ``Stopped``."""
        if self.event.wait(seconds):
            raise Stopped

    def wait_forever(self) -> None:
        while not self.event.wait(0.5):
            pass


def backoff_delays(initial: float = 0.25, factor: float = 2.0, maximum: float = 2.0) -> Iterator[float]:
    """0.25, 0.5, 1, 2, 2, ... seconds: a local service is up within seconds, so never wait long."""
    delay = initial
    while True:
        yield min(delay, maximum)
        delay = min(delay * factor, maximum)


def retry(
    attempt: Callable[[], T],
    *,
    what: str,
    log: Logger,
    stopper: Stopper,
    delays: Iterator[float] | None = None,
) -> T:
    """Call ``attempt`` until it returns, logging each failure; ``Stopped`` on SIGTERM. With a finite
    ``delays``, the last failure is re-raised once they run out."""
    last: Exception | None = None
    for tries, delay in enumerate(delays or backoff_delays(), start=1):
        if stopper.stopped:
            raise Stopped
        try:
            result = attempt()
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready yet"
            last = exc
            log.info("waiting", on=what, attempt=tries, retry_in=round(delay, 2), error=_describe(exc))
            stopper.wait(delay)
            continue
        if tries > 1:
            log.info("ready", on=what, attempts=tries)
        return result
    assert last is not None, "delays was empty"
    raise last


def _describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:200] if text else type(exc).__name__
