"""The stuck-lane watchdog: a job on a lane far longer than its model ever takes means the lane hangs.

A Coral on a weak USB port can hang inside `invoke()` for good, and the GIL-free call cannot be interrupted. So
the watchdog does not try: a job running longer than ``max(factor x the model's p99 service time, floor)`` ends
as ``stuck``, a fresh lane (a new thread, which makes fresh interpreters) takes the stuck lane's place, and the
old thread is left behind as a daemon; whatever it reports later is ignored.

A model that stalls `unhealthy_after` times in a row (no completed job between) is unhealthy: its jobs are
refused for a backoff that doubles with every further stall, up to `backoff_max_s`; one completed job makes it
healthy again. The books (stalls by model, unhealthy models) are in the service's snapshot.
"""

from __future__ import annotations

import logging
import time
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge_runtime.sections import WatchdogConfig

log = logging.getLogger("edge_runtime.scheduler.watchdog")

MIN_SAMPLES = 20  # below this many service times of a model, only the floor applies
WINDOW = 500
CHECK_EVERY_S = 0.05
EVENTS_KEPT = 16  # the latest stuck events, for the stats topic and the console


@dataclass(slots=True)
class _ModelTimes:
    samples: deque[float]
    stalls_in_row: int = 0
    blocked_until: float = 0.0


class Watchdog:
    """Per model: recent service times (p99) and stalls. Used on the event loop only."""

    def __init__(self, config: WatchdogConfig) -> None:
        self.config = config
        self._models: dict[str, _ModelTimes] = {}
        self.stalls: Counter[str] = Counter()
        self.replaced = 0
        self.events: deque[dict[str, Any]] = deque(maxlen=EVENTS_KEPT)

    def _times(self, model: str) -> _ModelTimes:
        times = self._models.get(model)
        if times is None:
            times = self._models[model] = _ModelTimes(deque(maxlen=WINDOW))
        return times

    def served(self, model: str, service_s: float) -> None:
        """A job of `model` completed in `service_s`: one more sample, and the model is healthy."""
        times = self._times(model)
        times.samples.append(service_s)
        if times.stalls_in_row >= self.config.unhealthy_after:
            log.info("model %r completes jobs again: healthy", model)
        times.stalls_in_row = 0
        times.blocked_until = 0.0

    def limit_s(self, model: str) -> float:
        """How long a job of `model` may run before its lane counts as stuck."""
        floor = self.config.floor_ms / 1e3
        times = self._models.get(model)
        if times is None or len(times.samples) < MIN_SAMPLES:
            return floor
        return max(self.config.factor * float(np.percentile(np.fromiter(times.samples, float), 99)), floor)

    def stalled(self, model: str, lane: str, ran_s: float, now: float) -> str:
        """Count a stall; the one-line detail for the stuck job (also logged)."""
        self.stalls[model] += 1
        self.replaced += 1
        times = self._times(model)
        times.stalls_in_row += 1
        detail = f"{lane} ran model {model!r} for {ran_s:.2f} s (limit {self.limit_s(model):.2f} s): lane replaced"
        over = times.stalls_in_row - self.config.unhealthy_after
        if over >= 0:
            pause = min(self.config.floor_ms / 1e3 * 2**over, self.config.backoff_max_s)
            times.blocked_until = now + pause
            detail += f"; model unhealthy after {times.stalls_in_row} stalls in a row, its jobs wait {pause:.1f} s"
        log.warning("stuck lane: %s", detail)
        self.events.append({"ts": round(time.time(), 3), "lane": lane, "model": model, "ran_s": round(ran_s, 3)})
        return detail

    def blocked(self, model: str, now: float) -> bool:
        """Whether `model` is unhealthy and inside its backoff: its jobs are refused."""
        times = self._models.get(model)
        return times is not None and now < times.blocked_until

    def unhealthy(self) -> list[str]:
        return sorted(m for m, t in self._models.items() if t.stalls_in_row >= self.config.unhealthy_after)

    def snapshot(self) -> dict[str, Any]:
        return {"stalls": dict(self.stalls), "lanes_replaced": self.replaced, "unhealthy": self.unhealthy(),
                "events": list(self.events)}
