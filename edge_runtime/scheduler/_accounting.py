"""Per-stream figures at the accelerator, and runner failures reported without flooding the log.

Every submitted job ends in exactly one of: completed, or dropped with a reason. So at any moment
``submitted == completed + sum(drops) + queued + running`` for each stream (`snapshot` shows all five).
Drops and the queue-wait and service-time histograms also go to the stream's `StreamStats`, which the
stream may share with the rest of its pipeline; its `offered`/`completed` stay the pipeline's to count.
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import Any

from edge_runtime.drops import SUPERSEDED
from edge_runtime.scheduler._tickets import StreamRule
from edge_runtime.stats import StreamStats

log = logging.getLogger("edge_runtime.scheduler")


class StreamAccount:
    """One stream's rule and counts. Touched on the event loop only (queued and running live with the queue)."""

    __slots__ = ("completed", "drops", "rule", "stats", "stream", "submitted")

    def __init__(self, stream: str, rule: StreamRule, stats: StreamStats) -> None:
        self.stream = stream
        self.rule = rule
        self.stats = stats
        self.submitted = 0
        self.completed = 0
        self.drops: Counter[str] = Counter()

    def dropped(self, reason: str) -> None:
        self.drops[reason] += 1
        self.stats.drops.add(reason)

    def done(self, queue_wait: float, service: float) -> None:
        self.completed += 1
        self.stats.queue_wait.add(queue_wait)
        self.stats.service.add(service)

    def snapshot(self, queued: int, running: int, direct: int = 0, replaced: int = 0) -> dict[str, Any]:
        """`direct`: jobs submitted from another thread, `replaced`: of which took a queued job's place, that one
        superseded (both counted by the dispatcher, under its lock; the stream counted the drop in its stats)."""
        drops = self.drops + Counter({SUPERSEDED: replaced}) if replaced else self.drops
        return {
            "priority": self.rule.priority,
            "submitted": self.submitted + direct,
            "completed": self.completed,
            "drops": dict(drops),
            "queued": queued,
            "running": running,
            "queue_wait": self.stats.queue_wait.quantiles(),
            "service": self.stats.service.quantiles(),
        }


class FailureLog:
    """One log line per failure of a (stream, model), at most one every `every` seconds; repeats are counted."""

    def __init__(self, every: float = 10.0) -> None:
        self._every = every
        self._last: dict[tuple[str, str], float] = {}
        self._quiet: Counter[tuple[str, str]] = Counter()

    def report(self, stream: str, model: str, what: str, now: float) -> None:
        key = (stream, model)
        last = self._last.get(key)
        if last is not None and now - last < self._every:
            self._quiet[key] += 1
            return
        more = self._quiet.pop(key, 0)
        self._last[key] = now
        suffix = f" ({more} more since the last report)" if more else ""
        log.error("stream %r model %r: %s%s", stream, model, what, suffix)
