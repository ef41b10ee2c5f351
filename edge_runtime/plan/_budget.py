"""The runtime's own plan: logged at start, and asked again by the canary with a pushed model's service time.

The service times of the configured models are measured (or read from the cache) the first time they are
needed, in the thread that needs them: at start in a worker thread, so the streams start at once.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path

from edge_runtime.config import RuntimeConfig
from edge_runtime.inference import ModelError
from edge_runtime.plan._measure import DEFAULT_CACHE, service_times
from edge_runtime.plan._predict import Plan, ServiceTime, predict
from edge_runtime.plan._report import lines, verdict

log = logging.getLogger("edge_runtime.plan")

START_MEASURE_S = 0.5


class RuntimePlan:
    def __init__(self, config: RuntimeConfig, base_dir: Path, cache_dir: Path = DEFAULT_CACHE) -> None:
        self.config = config
        self.base_dir = base_dir
        self.cache_dir = cache_dir
        self._lock = threading.Lock()
        self._times: dict[str, ServiceTime] | None = None

    def times(self) -> dict[str, ServiceTime]:
        """The configured models' service times (blocking the first time: measured or read from the cache)."""
        with self._lock:
            if self._times is None:
                self._times = service_times(self.config, self.base_dir, self.cache_dir, seconds=START_MEASURE_S)
            return self._times

    def plan(self, changed: dict[str, ServiceTime] | None = None) -> Plan:
        return predict(self.config, {**self.times(), **(changed or {})})

    def breaks(self, model: str, time: ServiceTime) -> str | None:
        """The reason a pushed `model` with this service time must not serve: the first stream using it that
        would no longer fit (None: every one still fits)."""
        try:
            plan = self.plan({model: time})
        except ModelError as exc:  # the configured models loaded at start: this is odd, and refused
            return f"canary: cannot measure the configured models for the plan: {exc}"
        for s in plan.streams:
            if model in s.models and not s.fits:
                return (
                    f"canary: stream {s.stream!r} ({s.fps:g} fps, budget {s.deadline_s * 1e3:.1f} ms) would break"
                    f" with this model (service {time.median_s * 1e3:.2f} ms median, {time.p99_s * 1e3:.2f} ms p99):"
                    f" {verdict(s)}"
                )
        return None

    async def log_at_start(self) -> None:
        """Log the plan (a warning when it does not fit); a model that cannot be measured is only reported."""
        try:
            plan = await asyncio.to_thread(self.plan)
        except Exception as exc:  # the plan informs, it never stops the runtime
            log.warning("plan: cannot measure the models: %s: %s", type(exc).__name__, exc)
            return
        level = logging.INFO if plan.fits else logging.WARNING
        for line in lines(plan):
            log.log(level, "plan: %s", line)
