"""What a time window accumulates: counts per label, and count/mean/min/max/p95 per reading value."""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

from edge_runtime.stages._payload import Detection

MAX_SAMPLES = 4096  # values kept per name for p95; above it a uniform reservoir sample (p95 then approximate)


@dataclass(slots=True)
class LabelStats:
    count: int = 0  # detections (or top classes) with this label
    frames: int = 0  # results in which the label appeared at least once
    max_score: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"count": self.count, "frames": self.frames, "max_score": round(self.max_score, 6)}


@dataclass(slots=True)
class ValueStats:
    count: int = 0
    total: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    samples: list[float] = field(default_factory=list)

    def add(self, value: float, rng: random.Random) -> None:
        self.count += 1
        self.total += value
        self.low = min(self.low, value)
        self.high = max(self.high, value)
        if len(self.samples) < MAX_SAMPLES:
            self.samples.append(value)
        elif (slot := rng.randrange(self.count)) < MAX_SAMPLES:
            self.samples[slot] = value

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "mean": self.total / self.count,
            "min": self.low,
            "max": self.high,
            "p95": percentile(self.samples, 95.0),
        }


def percentile(samples: list[float], pct: float) -> float:
    """Nearest-rank percentile: the smallest sample with at least pct % of the samples at or below it."""
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100.0 * len(ordered)))
    return ordered[rank - 1]


class Aggregate:
    """The running contents of one window."""

    def __init__(self) -> None:
        self.items = 0
        self.labels: dict[str, LabelStats] = {}
        self.values: dict[str, ValueStats] = {}
        self._rng = random.Random(0)

    def add_hits(self, found: list[Detection], top_only: bool) -> None:
        """One detections result (every hit counts) or classification (only the top class counts)."""
        self.items += 1
        if top_only and found:
            found = [max(found, key=lambda hit: hit.score)]
        for label in {hit.label for hit in found}:
            self.labels.setdefault(label, LabelStats()).frames += 1
        for hit in found:
            stats = self.labels[hit.label]
            stats.count += 1
            stats.max_score = max(stats.max_score, hit.score)

    def add_values(self, values: dict[str, float]) -> None:
        """One reading: each value joins the statistics of its name."""
        self.items += 1
        for name, value in values.items():
            self.values.setdefault(name, ValueStats()).add(value, self._rng)

    def summary(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "labels": {label: stats.as_dict() for label, stats in sorted(self.labels.items())},
            "values": {name: stats.as_dict() for name, stats in sorted(self.values.items())},
        }
