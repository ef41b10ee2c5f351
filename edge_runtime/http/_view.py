"""What the runtime looks like from outside: one read of the existing accounting, for the console, the JSON
status, the metrics and the health checks alike (nothing here counts twice)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from edge_runtime.results import Result

if TYPE_CHECKING:
    from edge_runtime.config import RuntimeConfig
    from edge_runtime.engine._runtime import StreamParts
    from edge_runtime.engine._stream import StreamRunner
    from edge_runtime.scheduler import AcceleratorService
    from edge_runtime.sinks.cloud import CloudSink
    from edge_runtime.updates import UpdateHistory

EVENT_KINDS = ("event", "alert")
SPARK_POINTS = 60
EVENTS_SHOWN = 20


@dataclass
class RuntimeView:
    config: RuntimeConfig
    streams: list[StreamParts]  # the runtime's own list: streams a reload adds or removes show at once
    service: AcceleratorService
    cloud: CloudSink | None = None
    started: float = field(default_factory=time.monotonic)
    ready: bool = False  # models loaded (at build) and the stream tasks started
    reload: Callable[[], Awaitable[list[str]]] | None = None  # hot reload, when the runtime has a config file
    model_updates: UpdateHistory | None = None  # pushes received / verified / active / rejected / rolled back

    @property
    def runners(self) -> list[StreamRunner]:
        return [parts.runner for parts in self.streams]

    def mark_ready(self) -> None:
        self.ready = True

    def uptime(self) -> float:
        return time.monotonic() - self.started

    def runner(self, name: str) -> StreamRunner | None:
        return next((r for r in self.runners if r.name == name), None)

    def status(self) -> dict[str, Any]:
        return {
            "device": self.config.device.id,
            "uptime_s": round(self.uptime(), 1),
            "ready": self.ready,
            "streams": [self.stream_status(p) for p in self.streams],
            "accelerator": self.accelerator(),
            "cloud": self.cloud.uplink.stats() if self.cloud is not None else None,
            "events": self.events(),
            "model_updates": self.model_updates.entries() if self.model_updates is not None else None,
        }

    def stream_status(self, parts: StreamParts) -> dict[str, Any]:
        runner, config = parts.runner, parts.config
        stats = runner.stats
        latest = runner.latest[1] if runner.latest is not None else None
        return {
            "name": runner.name,
            "source": config.source.type if config else None,
            "priority": config.priority if config else None,
            "model": self.model_of(runner),
            "offered": stats.offered,
            "completed": stats.completed,
            "fps_now": round(stats.rate.per_second(), 2),
            "fps_avg": round(stats.completed / self.uptime(), 2) if self.uptime() > 0 else 0.0,
            "latency_ms": {k: round(v, 1) for k, v in stats.latency.quantiles().items()},
            "drops": stats.drops.snapshot(),
            "downstream": {name: c.snapshot() for name, c in stats.downstream.items() if c.total},
            "has_frame": runner.latest is not None,
            "detections": len(latest.payload.get("detections", [])) if latest is not None else None,
            "readings": spark(runner.recent),
        }

    def model_of(self, runner: StreamRunner) -> dict[str, Any] | None:
        if runner.infer is None:
            return None
        ref = self.service.model(runner.infer.model).ref
        return {"name": ref.name, "version": ref.version, "sha256": ref.sha256}

    def accelerator(self) -> dict[str, Any]:
        snap = self.service.snapshot()
        uptime = max(self.uptime(), 1e-9)
        for lane in snap["lanes"]:
            lane["busy_ratio"] = round(min(1.0, lane["busy_s"] / uptime), 4)
        return snap

    def events(self) -> list[dict[str, Any]]:
        found = sorted(_events(self.runners), key=lambda r: r.ts_result, reverse=True)[:EVENTS_SHOWN]
        return [{"stream": r.stream, "kind": r.kind, "ts": r.ts_result, "payload": r.payload} for r in found]


def _events(runners: list[StreamRunner]) -> Iterator[Result]:
    for runner in runners:
        yield from (r for r in runner.recent if r.kind in EVENT_KINDS)


def spark(results: Any) -> dict[str, list[float]]:
    """The recent readings of a sensor stream, per value name (for a sparkline)."""
    series: dict[str, list[float]] = {}
    for result in list(results)[-SPARK_POINTS:]:
        if result.kind != "reading":
            continue
        for key, value in result.payload.get("values", {}).items():
            if isinstance(value, (int, float)):
                series.setdefault(key, []).append(round(float(value), 3))
    return series
