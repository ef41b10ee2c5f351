"""Drop counters: every frame or result that is not delivered is counted with a reason."""

from __future__ import annotations

import threading
from collections import Counter

# The reasons the runtime uses; a stage may add its own, named after what it does.
FPS_CAP = "fps_cap"  # the source read a frame faster than the configured fps
SUPERSEDED = "superseded"  # a newer frame of the same stream replaced this one while it waited
STALE = "stale"  # past its deadline at dispatch: never run
QUEUE_FULL = "queue_full"  # a bounded queue was full
ERROR = "error"  # the stage or model failed on this item
SHUTDOWN = "shutdown"  # still queued when the runtime stopped
OUTBOX_FULL = "outbox_full"


class DropCounter:
    """Counts drops by reason; safe to call from capture and lane threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, reason: str, n: int = 1) -> None:
        with self._lock:
            self._counts[reason] += n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())
