"""Per-stream accounting: offered, completed, dropped by reason, latency histograms."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from edge_runtime.drops import DropCounter


class LatencyWindow:
    """The last `size` samples (seconds) for p50/p99/max, and the count of all samples. Thread-safe."""

    def __init__(self, size: int = 4096) -> None:
        self._samples: deque[float] = deque(maxlen=size)
        self._lock = threading.Lock()
        self.count = 0
        self.sum = 0.0  # of all samples, seconds

    def add(self, seconds: float) -> None:
        with self._lock:
            self._samples.append(seconds)
            self.count += 1
            self.sum += seconds

    def quantiles(self) -> dict[str, float]:
        """p50, p99 and max in milliseconds over the window (zeros when empty)."""
        with self._lock:
            data = np.fromiter(self._samples, dtype=np.float64)
        if data.size == 0:
            return {"p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0}
        p50, p99 = np.percentile(data, [50, 99])
        return {"p50_ms": float(p50) * 1e3, "p99_ms": float(p99) * 1e3, "max_ms": float(data.max()) * 1e3}


class StreamStats:
    """Everything the status line, the stats topic and the benchmark report for one stream."""

    def __init__(self, stream: str) -> None:
        self.stream = stream
        self.offered = 0  # frames or readings the source offered to the stream (after its fps cap)
        self.completed = 0  # results delivered to the sinks
        self.gated = 0  # frames a gate (motion, sensor) kept from the accelerator
        self.gate_cost = LatencyWindow()  # the gates' own time per frame
        # Cascade crops, by cascade stage: each crop ends completed or dropped with a reason (crop_stale...).
        self.crops: dict[str, CropStats] = {}
        self.drops = DropCounter()
        self.latency = LatencyWindow()  # capture to result
        self.queue_wait = LatencyWindow()  # waiting for an accelerator lane
        self.service = LatencyWindow()  # preprocess + invoke + decode on the lane
        # Results the stream produced that a stage or sink then left out (filtered, late, a failing sink...),
        # by stage or sink name: shown beside the stream's own drops, not part of `offered`'s accounting.
        self.downstream: dict[str, DropCounter] = {}
        self.status = "running"  # "disabled" while a control keeps detection off (edge_runtime.control)
        self.latency_observers: list[Callable[[float], None]] = []  # e.g. a Prometheus histogram's observe
        self.rate = RateWindow()
        self._lock = threading.Lock()

    def offer(self) -> None:
        with self._lock:
            self.offered += 1

    def gate(self) -> None:
        with self._lock:
            self.gated += 1

    def complete(self, latency_s: float) -> None:
        with self._lock:
            self.completed += 1
        self.latency.add(latency_s)
        for observe in self.latency_observers:
            observe(latency_s)

    def snapshot(self) -> dict[str, object]:
        return {
            "stream": self.stream,
            "status": self.status,
            "offered": self.offered,
            "completed": self.completed,
            "gated": self.gated,
            "drops": self.drops.snapshot(),
            "downstream": {name: c.snapshot() for name, c in self.downstream.items() if c.total},
            "latency": self.latency.quantiles(),
            "queue_wait": self.queue_wait.quantiles(),
            "service": self.service.quantiles(),
            **({"gate_cost": self.gate_cost.quantiles()} if self.gate_cost.count else {}),
            **({"crops": {name: c.snapshot() for name, c in self.crops.items()}} if self.crops else {}),
        }


class RateWindow:
    """Results per second over the last `span_s` seconds, from a count sampled about once a second."""

    def __init__(self, span_s: float = 10.0) -> None:
        self.span_s = span_s
        self._samples: deque[tuple[float, int]] = deque(maxlen=int(span_s * 4) + 2)

    def sample(self, count: int, now: float | None = None) -> None:
        self._samples.append((time.monotonic() if now is None else now, count))

    def per_second(self) -> float:
        if len(self._samples) < 2:
            return 0.0
        t_last, c_last = self._samples[-1]
        t_first, c_first = next(((t, c) for t, c in self._samples if t_last - t <= self.span_s), self._samples[-1])
        return (c_last - c_first) / (t_last - t_first) if t_last > t_first else 0.0


class CropStats:
    """One cascade's crops: offered (selected for a crop) = completed + drops by reason."""

    def __init__(self) -> None:
        self.offered = 0
        self.completed = 0
        self.drops = DropCounter()
        self._lock = threading.Lock()

    def offer(self, count: int) -> None:
        with self._lock:
            self.offered += count

    def complete(self) -> None:
        with self._lock:
            self.completed += 1

    def snapshot(self) -> dict[str, object]:
        return {"offered": self.offered, "completed": self.completed, "drops": self.drops.snapshot()}
