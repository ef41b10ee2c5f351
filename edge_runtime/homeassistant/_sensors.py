"""The values behind the stats sensors: per stream fps, latency p99 and drops per second; per device the outbox,
the link, model versions and the CPU temperature (the hottest thermal zone, read as `thermal:` reads them; only
where the kernel exposes one)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from edge_runtime.stats import StreamStats
from edge_runtime.thermal import read


class StreamRates:
    """Rates over the time since the previous sample."""

    def __init__(self, stats: StreamStats) -> None:
        self.stats = stats
        self._t = time.monotonic()
        self._completed = stats.completed
        self._drops = stats.drops.total

    def sample(self, status: str) -> dict[str, Any]:
        now, completed, drops = time.monotonic(), self.stats.completed, self.stats.drops.total
        elapsed = max(now - self._t, 1e-6)
        values = {
            "fps": round((completed - self._completed) / elapsed, 2),
            "latency_p99_ms": round(self.stats.latency.quantiles()["p99_ms"], 1),
            "drops_per_s": round((drops - self._drops) / elapsed, 2),
            "completed": completed,
            "drops": drops,
            "status": status,
        }
        self._t, self._completed, self._drops = now, completed, drops
        return values


class DeviceSensors:
    def __init__(
        self,
        model_versions: Callable[[], dict[str, int]],
        outbox_entries: Callable[[], int | None],
        sysfs_root: Path = Path("/sys"),
    ) -> None:
        self._model_versions = model_versions
        self._outbox_entries = outbox_entries
        self.sysfs_root = sysfs_root
        self.cpu_readable = read(sysfs_root).hottest_c is not None  # at build, not at validation

    def models(self) -> list[str]:
        return sorted(self._model_versions())

    async def sample(self, link_up: bool) -> dict[str, Any]:
        values: dict[str, Any] = {
            "outbox_entries": self._outbox_entries() or 0,
            "link": "ON" if link_up else "OFF",
            "models": self._model_versions(),
        }
        if self.cpu_readable:
            values["cpu_temp_c"] = (await asyncio.to_thread(read, self.sysfs_root)).hottest_c
        return values
