"""Debounced label counts: a count goes up at once and down only after the lower value held for `hold_s`.

The shown count is the largest count seen in the last `hold_s` seconds, so a detector that misses an object on
a few frames does not make the count (or occupancy) flicker. Occupancy is ``count > 0``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from typing import Any


def label_counts(envelope: Mapping[str, Any], labels: Iterable[str]) -> dict[str, int] | None:
    """The number of detections per wanted label in a result envelope; None when it carries no detections."""
    payload = envelope.get("payload")
    detections = payload.get("detections") if isinstance(payload, dict) else None
    if not isinstance(detections, list):
        return None
    counts = dict.fromkeys(labels, 0)
    for det in detections:
        label = det.get("label") if isinstance(det, dict) else None
        if label in counts:
            counts[label] += 1
    return counts


class HeldCount:
    """One stream's count of one label, held over a trailing window of `hold_s` seconds."""

    def __init__(self, hold_s: float) -> None:
        self.hold_s = hold_s
        self._seen: deque[tuple[float, int]] = deque()  # (time, count), counts strictly decreasing left to right
        self.shown = 0

    def observe(self, count: int, now: float) -> None:
        while self._seen and self._seen[-1][1] <= count:
            self._seen.pop()  # a later, larger-or-equal count outlives it: the window max never needs it
        self._seen.append((now, count))
        self.settle(now)

    def settle(self, now: float) -> int:
        """Forget counts older than the hold (the newest is always kept); returns the count now shown."""
        while len(self._seen) > 1 and self._seen[0][0] < now - self.hold_s:
            self._seen.popleft()
        self.shown = self._seen[0][1] if self._seen else 0
        return self.shown
