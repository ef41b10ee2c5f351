"""The `window` stage: tumbling or sliding time windows over detections, classifications and readings.

Window k covers ``[k * hop, k * hop + size)`` of capture time (wall clock), so tumbling windows (hop = size)
align to multiples of their size. `tick(now)` closes the windows that ended at or before ``now - grace_s``;
an item that arrives for a window already closed is late: counted in `drops` as ``late``, not in the window.
`flush()` emits the windows still open, marked ``partial``.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, model_validator

from edge_runtime.results import ModelRef, Result
from edge_runtime.stages._aggregate import Aggregate
from edge_runtime.stages._derive import NAME_DESCRIPTION, NAME_PATTERN, DerivingConfig, DerivingStage
from edge_runtime.stages._payload import CLASSIFICATION, LABELLED, MALFORMED, READING, hits, values

LATE = "late"  # drop reason: the item's window had already closed (for a sliding window: one of its windows)
TOO_MANY_WINDOWS = "too_many_windows"  # drop reason: the open-window bound was reached
MAX_OPEN = 4096  # open windows a stage keeps; bounds memory when capture times jump about
MAX_EMPTY = 1000  # empty windows emitted by one tick at most (after a clock jump, the older ones are skipped)
KIND = "window"


class WindowConfig(DerivingConfig):
    """Counts per label (detections, classifications) and count/mean/min/max/p95 per value (readings)."""

    type: Literal["window"]
    name: str = Field("window", pattern=NAME_PATTERN, description=NAME_DESCRIPTION)
    mode: Literal["tumbling", "sliding"] = Field("tumbling", description="tumbling: back to back; sliding: overlap.")
    size_s: float = Field(gt=0, le=86400, description="Length of a window in seconds.")
    hop_s: float | None = Field(None, gt=0, description="Sliding only: seconds between window starts (<= size_s).")
    grace_s: float = Field(0.5, ge=0, le=3600, description="Wait this long after a window ends for late items.")
    emit_empty: bool = Field(False, description="Also emit windows that received nothing.")

    @model_validator(mode="after")
    def _check_hop(self) -> WindowConfig:
        if self.mode == "tumbling" and self.hop_s is not None and self.hop_s != self.size_s:
            raise ValueError("hop_s is for sliding windows (a tumbling window hops by its size)")
        if self.mode == "sliding" and self.hop_s is None:
            raise ValueError("a sliding window needs hop_s")
        if self.hop > self.size_s or self.size_s / self.hop > 1000:
            raise ValueError(f"hop_s must be at most size_s and at least size_s / 1000 (got {self.hop_s})")
        return self

    @property
    def hop(self) -> float:
        return self.size_s if self.hop_s is None else self.hop_s


class WindowStage(DerivingStage):
    """Emits one ``window`` result per closed window on the stream ``<stream>:<name>``."""

    def __init__(self, config: WindowConfig, stream: str) -> None:
        super().__init__(config.name, stream, config.forward)
        self.config = config
        self._size = config.size_s
        self._hop = config.hop
        self._open: dict[int, Aggregate] = {}
        self._next: int | None = None  # the first window index not closed yet (None before the first tick)
        self._model: ModelRef | None = None

    def bounds(self, k: int) -> tuple[float, float]:
        """Start and end of window k."""
        start = k * self._hop
        return start, start + self._size

    def windows_of(self, ts: float) -> list[int]:
        """The indices of the windows a capture time falls in."""
        first = math.floor((ts - self._size) / self._hop)
        last = math.floor(ts / self._hop) + 1
        return [k for k in range(first, last + 1) if self.bounds(k)[0] <= ts < self.bounds(k)[1]]

    def process(self, result: Result) -> list[Result]:
        if result.kind not in LABELLED and result.kind != READING:
            return [result]
        targets = self._targets(self.windows_of(result.ts_capture))
        self._model = result.model
        if result.kind == READING:
            found_values, malformed = values(result)
            for agg in targets:
                agg.add_values(found_values)
        else:
            found, malformed = hits(result)
            for agg in targets:
                agg.add_hits(found, top_only=result.kind == CLASSIFICATION)
        if malformed:
            self.drops.add(MALFORMED, malformed)
        return self.passed(result)

    def _targets(self, indices: list[int]) -> list[Aggregate]:
        live = [k for k in indices if self._next is None or k >= self._next]
        if len(live) < len(indices):
            self.drops.add(LATE)
        targets = []
        for k in live:
            if k not in self._open and len(self._open) >= MAX_OPEN:
                self.drops.add(TOO_MANY_WINDOWS)
                continue
            targets.append(self._open.setdefault(k, Aggregate()))
        return targets

    def _last_closable(self, horizon: float) -> int:
        """The largest window index whose window ends at or before `horizon`."""
        k = math.floor((horizon - self._size) / self._hop)
        while self.bounds(k + 1)[1] <= horizon:
            k += 1
        while self.bounds(k)[1] > horizon:
            k -= 1
        return k

    def tick(self, now: float) -> list[Result]:
        last = self._last_closable(now - self.config.grace_s)
        keys = {k for k in self._open if k <= last}
        if self.config.emit_empty:
            first = self._next if self._next is not None else min(self._open, default=last + 1)
            keys.update(range(max(first, last - MAX_EMPTY + 1), last + 1))
        self._next = last + 1 if self._next is None else max(self._next, last + 1)
        return [self._close(k, partial=False) for k in sorted(keys)]

    def flush(self) -> list[Result]:
        return [self._close(k, partial=True) for k in sorted(self._open)]

    def _close(self, k: int, partial: bool) -> Result:
        agg = self._open.pop(k, None) or Aggregate()
        start, end = self.bounds(k)
        payload = {"mode": self.config.mode, "start": start, "end": end, "size_s": self._size, "partial": partial}
        return self.derive(KIND, {**payload, **agg.summary()}, ts_capture=end, model=self._model)


def build(config: WindowConfig, stream: str) -> WindowStage:
    return WindowStage(config, stream)
