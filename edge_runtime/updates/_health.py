"""Watching a model version in service: every run's time and whether it failed or gave non-finite outputs.

`WatchedHandle` wraps the handle installed in the accelerator service; the runners it makes time each run in
the lane thread and record it in a `HealthMonitor`, which the updater reads to decide on a rollback.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from edge_runtime.frames import Frame
from edge_runtime.inference import LoadedModel, TfliteModelHandle, TfliteRunner
from edge_runtime.jobs import Runner
from edge_runtime.results import ModelRef

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Health:
    runs: int  # in the window
    error_rate: float
    median_s: float | None


class HealthMonitor:
    """The last `window` runs of one model version: (seconds, ok). Written by lane threads, read on the loop."""

    def __init__(self, window: int) -> None:
        self._lock = threading.Lock()
        self._runs: deque[tuple[float, bool]] = deque(maxlen=window)
        self.total = 0

    def record(self, seconds: float, ok: bool) -> None:
        with self._lock:
            self._runs.append((seconds, ok))
            self.total += 1

    def health(self) -> Health:
        with self._lock:
            runs = list(self._runs)
        if not runs:
            return Health(0, 0.0, None)
        errors = sum(1 for _, ok in runs if not ok)
        return Health(len(runs), errors / len(runs), statistics.median(s for s, _ in runs))


def outputs_finite(runner: TfliteRunner) -> bool:
    """Whether the last invoke's outputs are all finite (NaN or inf means a broken model)."""
    return all(bool(np.isfinite(out).all()) for out in runner.interpreter.outputs_float())


class WatchedRunner(Runner):
    """The inner runner's three steps, timed from preprocess to decode; a step that raises is a failed run."""

    def __init__(self, inner: TfliteRunner, monitor: HealthMonitor) -> None:
        self.inner = inner
        self.monitor = monitor
        self._start = 0.0

    def preprocess(self, frame: Frame) -> Any:
        self._start = time.perf_counter()
        return self._watched(self.inner.preprocess, frame)

    def invoke(self) -> None:
        self._watched(self.inner.invoke)

    def decode(self, state: Any) -> tuple[str, dict[str, Any]]:
        result = self._watched(self.inner.decode, state)
        self.monitor.record(time.perf_counter() - self._start, ok=outputs_finite(self.inner))
        return result

    def _watched(self, step: Callable[..., T], *args: Any) -> T:
        try:
            return step(*args)
        except Exception:
            self.monitor.record(time.perf_counter() - self._start, ok=False)
            raise


class WatchedHandle:
    """A model handle whose runners report to `monitor`; otherwise the same model."""

    def __init__(self, inner: TfliteModelHandle, monitor: HealthMonitor) -> None:
        self.inner = inner
        self.monitor = monitor

    @property
    def ref(self) -> ModelRef:
        return self.inner.ref

    @property
    def model(self) -> LoadedModel:
        return self.inner.model

    def instantiate(self) -> WatchedRunner:
        return WatchedRunner(self.inner.instantiate(), self.monitor)

    def with_threads(self, threads: int | None) -> WatchedHandle:
        return WatchedHandle(self.inner.with_threads(threads), self.monitor)
