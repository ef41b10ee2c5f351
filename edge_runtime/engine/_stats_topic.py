"""The runtime's periodic stats: the `runtime` section of the envelope on `<prefix>/<device>/stats` (the cloud
sink adds the `uplink` section: outbox, link, drops). One read of the existing accounting, like the status line
and `/metrics`, so the three agree. The shape is documented in README.md ("The stats topic")."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edge_runtime.engine._runtime import StreamParts
    from edge_runtime.scheduler import AcceleratorService
    from edge_runtime.stats import StreamStats

STATS_VERSION = 1


def stats_provider(
    streams: list[StreamParts], service: AcceleratorService, started: float | None = None
) -> Callable[[], dict[str, Any]]:
    """A provider for `CloudSink(stats=...)`. `streams` is the runtime's own list: a hot reload shows at once."""
    since = time.monotonic() if started is None else started

    def provide() -> dict[str, Any]:
        return runtime_stats(streams, service, time.monotonic() - since)

    return provide


def runtime_stats(streams: list[StreamParts], service: AcceleratorService, uptime_s: float) -> dict[str, Any]:
    accel = service.snapshot()
    return {
        "version": STATS_VERSION,
        "uptime_s": round(uptime_s, 1),
        "streams": {parts.runner.name: stream_stats(parts.runner.stats) for parts in streams},
        "scheduler": {"policy": accel["policy"], "queued": accel["queued"]},
        "lanes": accel["lanes"],
        "watchdog": accel["watchdog"],
        "thermal": accel.get("thermal"),
    }


def stream_stats(stats: StreamStats) -> dict[str, Any]:
    """Frames by outcome (`completed` + every drop reason = `offered`, once nothing is in flight)."""
    drops = stats.drops.snapshot()
    return {
        "offered": stats.offered,
        "completed": stats.completed,
        "dropped": sum(drops.values()),
        "drops": drops,
        "downstream": {name: c.snapshot() for name, c in stats.downstream.items() if c.total},
        "fps": round(stats.rate.per_second(), 2),
        "latency_ms": {k: round(v, 2) for k, v in stats.latency.quantiles().items()},
    }
