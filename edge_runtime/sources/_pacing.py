"""Rates: a pacer that sleeps to a fixed schedule, and a cap that skips what comes too early."""

from __future__ import annotations

import threading
import time

EARLY_TOLERANCE = 0.1  # a frame up to this fraction of a period early still counts as on time


class Pacer:
    """Releases one item per period on a fixed schedule (no drift); after a long stall it resyncs, no burst.

    `None` paces nothing: `wait()` only reports whether to go on.
    """

    def __init__(self, fps: float | None) -> None:
        self.period = None if fps is None else 1.0 / fps
        self._due: float | None = None

    def wait(self, stop: threading.Event) -> bool:
        """Sleep until the next slot; False when `stop` was set meanwhile."""
        if self.period is None:
            return not stop.is_set()
        now = time.monotonic()
        due = now if self._due is None else self._due
        if due > now and stop.wait(due - now):
            return False
        now = time.monotonic()
        self._due = now + self.period if now - due > self.period else due + self.period
        return not stop.is_set()

    def reset(self) -> None:
        self._due = None


class RateCap:
    """Admits at most `fps` items per second from a faster producer; `None` admits everything."""

    def __init__(self, fps: float | None) -> None:
        self.period = None if fps is None else 1.0 / fps
        self._due: float | None = None

    def admit(self, now: float) -> bool:
        if self.period is None:
            return True
        due = self._due
        if due is not None and now < due - EARLY_TOLERANCE * self.period:
            return False
        self._due = now + self.period if due is None or now - due > self.period else due + self.period
        return True
