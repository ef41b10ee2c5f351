"""Prometheus metrics, read from the runtime's own accounting at scrape time (so they agree with the status
line and the stats topic by construction). Only the latency histogram observes: a histogram needs every sample,
so it counts the results since the server started.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from edge_runtime.http._view import RuntimeView
    from edge_runtime.stats import StreamStats

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
THERMAL_STATES = ("normal", "warm", "hot")


class Metrics:
    """One registry per runtime: the client's process/platform/GC defaults, the runtime collector, and the
    capture-to-sink latency histogram fed by each stream's stats."""

    def __init__(self, view: RuntimeView) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(namespace="edge", registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        self.registry.register(RuntimeCollector(view))
        self.view = view
        self.latency = Histogram(
            "edge_stream_latency_seconds", "Capture to sink, per result.", ["stream"],
            buckets=LATENCY_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self._observed: dict[str, StreamStats] = {}
        self.observe_streams()

    def observe_streams(self) -> None:
        """Feed the histogram from every current stream (streams come and go with a hot reload)."""
        current = {r.name: r.stats for r in self.view.runners}
        for name, stats in list(self._observed.items()):
            if current.get(name) is not stats:
                del self._observed[name]
                with contextlib.suppress(KeyError):
                    self.latency.remove(name)
        for name, stats in current.items():
            if name not in self._observed:
                stats.latency_observers.append(self.latency.labels(name).observe)
                self._observed[name] = stats

    def render(self) -> bytes:
        self.observe_streams()
        return generate_latest(self.registry)


class RuntimeCollector(Collector):
    def __init__(self, view: RuntimeView) -> None:
        self.view = view

    def collect(self) -> Iterator[Metric]:
        yield from self._streams()
        yield from self._gates_and_cascades()
        accel = self.view.accelerator()
        yield from self._lanes(accel)
        yield from _watchdog(accel["watchdog"], accel["lanes"])
        if accel.get("thermal") is not None:
            yield from _thermal(accel["thermal"])
        yield from self._models()
        if self.view.cloud is not None:
            yield from _cloud(self.view.cloud.uplink.stats())

    def _streams(self) -> Iterator[Metric]:
        offered = CounterMetricFamily("edge_stream_offered", "Items the source offered.", labels=["stream"])
        frames = CounterMetricFamily("edge_stream_frames", "Frames by outcome.", labels=["stream", "outcome"])
        drops = CounterMetricFamily("edge_stream_drops", "Frames dropped, by reason.", labels=["stream", "reason"])
        after = CounterMetricFamily(
            "edge_stream_downstream_drops", "Results left out after inference, by stage or sink.",
            labels=["stream", "stage", "reason"],
        )  # fmt: skip
        fps = GaugeMetricFamily("edge_stream_fps", "Results per second over the last 10 s.", labels=["stream"])
        for runner in self.view.runners:
            stats, name = runner.stats, runner.name
            offered.add_metric([name], stats.offered)
            frames.add_metric([name, "completed"], stats.completed)
            counts = stats.drops.snapshot()
            frames.add_metric([name, "dropped"], sum(counts.values()))
            frames.add_metric([name, "gated"], stats.gated)
            for reason, n in sorted(counts.items()):
                drops.add_metric([name, reason], n)
            for stage, counter in stats.downstream.items():
                for reason, n in sorted(counter.snapshot().items()):
                    after.add_metric([name, stage, reason], n)
            fps.add_metric([name], stats.rate.per_second())
        yield from (offered, frames, drops, after, fps)

    def _gates_and_cascades(self) -> Iterator[Metric]:
        """The gates' own cost per frame, and each cascade's crops: offered = completed + drops by reason."""
        cost = Metric(
            "edge_stream_gate_seconds", "The gates' time per frame (quantiles over the recent window).", "summary"
        )
        crops = CounterMetricFamily(
            "edge_cascade_crops", "Cascade crops by outcome.", labels=["stream", "cascade", "outcome"]
        )
        crop_drops = CounterMetricFamily(
            "edge_cascade_crop_drops", "Cascade crops dropped, by reason.", labels=["stream", "cascade", "reason"]
        )
        for runner in self.view.runners:
            stats, name = runner.stats, runner.name
            window = stats.gate_cost
            if window.count:
                q = window.quantiles()
                cost.add_sample("edge_stream_gate_seconds", {"stream": name, "quantile": "0.5"}, q["p50_ms"] / 1e3)
                cost.add_sample("edge_stream_gate_seconds", {"stream": name, "quantile": "0.99"}, q["p99_ms"] / 1e3)
                cost.add_sample("edge_stream_gate_seconds_count", {"stream": name}, window.count)
                cost.add_sample("edge_stream_gate_seconds_sum", {"stream": name}, window.sum)
            for cascade, c in stats.crops.items():
                drops = c.drops.snapshot()
                crops.add_metric([name, cascade, "offered"], c.offered)
                crops.add_metric([name, cascade, "completed"], c.completed)
                for reason, n in sorted(drops.items()):
                    crop_drops.add_metric([name, cascade, reason], n)
        yield from (cost, crops, crop_drops)

    def _lanes(self, accel: dict[str, Any]) -> Iterator[Metric]:
        busy = GaugeMetricFamily("edge_lane_busy_ratio", "Share of uptime a lane spent on jobs.", labels=["lane"])
        busy_s = CounterMetricFamily("edge_lane_busy_seconds", "Seconds a lane spent on jobs.", labels=["lane"])
        jobs = CounterMetricFamily("edge_lane_jobs", "Jobs a lane ran.", labels=["lane"])
        for lane in accel["lanes"]:
            busy.add_metric([lane["name"]], lane["busy_ratio"])
            busy_s.add_metric([lane["name"]], lane["busy_s"])
            jobs.add_metric([lane["name"]], lane["jobs"])
        queued = GaugeMetricFamily("edge_scheduler_queued", "Jobs waiting, per priority class.", labels=["priority"])
        per_class: dict[str, int] = {}
        for stream in accel["streams"].values():
            per_class[stream["priority"]] = per_class.get(stream["priority"], 0) + stream["queued"]
        for priority, n in sorted(per_class.items()):
            queued.add_metric([priority], n)
        yield from (busy, busy_s, jobs, queued)

    def _models(self) -> Iterator[Metric]:
        info = InfoMetricFamily("edge_model", "The model version each stream runs.", labels=["model"])
        service = Metric(
            "edge_model_invoke_seconds", "Preprocess + invoke + decode on a lane (quantiles over the recent window).",
            "summary",
        )  # fmt: skip
        seen: set[str] = set()
        for runner in self.view.runners:
            model = self.view.model_of(runner)
            if model is None:
                continue
            if model["name"] not in seen:
                seen.add(model["name"])
                info.add_metric([model["name"]], {"version": str(model["version"]), "sha256": model["sha256"]})
            window = runner.stats.service
            labels = {"stream": runner.name, "model": model["name"]}
            q = window.quantiles()
            service.add_sample("edge_model_invoke_seconds", {**labels, "quantile": "0.5"}, q["p50_ms"] / 1e3)
            service.add_sample("edge_model_invoke_seconds", {**labels, "quantile": "0.99"}, q["p99_ms"] / 1e3)
            service.add_sample("edge_model_invoke_seconds_count", labels, window.count)
            service.add_sample("edge_model_invoke_seconds_sum", labels, window.sum)
        yield from (info, service)


def _cloud(stats: dict[str, Any]) -> Iterator[Metric]:
    outbox = stats["outbox"]
    yield GaugeMetricFamily("edge_outbox_entries", "Entries waiting in the outbox.", value=outbox["entries"] or 0)
    yield GaugeMetricFamily("edge_outbox_bytes", "Bytes waiting in the outbox.", value=outbox["bytes"] or 0)
    yield GaugeMetricFamily(
        "edge_outbox_oldest_age_seconds",
        "Age of the oldest entry waiting in the outbox (0 when empty).",
        value=outbox["oldest_age_s"] or 0,
    )
    up = int(bool(stats["link"].get("connected")))
    yield GaugeMetricFamily("edge_link_up", "1 while the cloud link is connected.", value=up)
    yield CounterMetricFamily("edge_uplink_committed", "Envelopes committed to the outbox.", value=stats["committed"])
    yield CounterMetricFamily("edge_uplink_published", "Envelopes delivered to the cloud.", value=stats["delivered"])
    dropped = CounterMetricFamily("edge_uplink_dropped", "Envelopes not delivered, by reason.", labels=["reason"])
    for reason, n in sorted(stats["drops"].items()):
        dropped.add_metric([reason], n)
    yield dropped


def _watchdog(watchdog: dict[str, Any], lanes: list[dict[str, Any]]) -> Iterator[Metric]:
    stuck = CounterMetricFamily("edge_watchdog_stuck_jobs", "Jobs that ended stuck, by model.", labels=["model"])
    for model, n in sorted(watchdog["stalls"].items()):
        stuck.add_metric([model], n)
    yield stuck
    yield CounterMetricFamily(
        "edge_watchdog_lane_restarts", "Lanes replaced by a fresh one after a stuck job.",
        value=watchdog["lanes_replaced"],
    )  # fmt: skip
    per_lane = CounterMetricFamily("edge_lane_stuck", "Stuck jobs, by lane.", labels=["lane"])
    for lane in lanes:
        per_lane.add_metric([lane["name"]], lane["stuck"])
    yield per_lane
    unhealthy = GaugeMetricFamily(
        "edge_model_unhealthy", "1 while the watchdog holds a model unhealthy (repeated stalls).", labels=["model"]
    )
    for model in watchdog["unhealthy"]:
        unhealthy.add_metric([model], 1)
    yield unhealthy


def _thermal(thermal: dict[str, Any]) -> Iterator[Metric]:
    state = GaugeMetricFamily("edge_thermal_state", "1 for the current thermal state.", labels=["state"])
    for name in THERMAL_STATES:
        state.add_metric([name], int(thermal["state"] == name))
    temps = GaugeMetricFamily("edge_thermal_temperature_celsius", "Thermal zone readings.", labels=["zone"])
    for zone, celsius in sorted(thermal["temps_c"].items()):
        temps.add_metric([zone], celsius)
    flags = GaugeMetricFamily("edge_thermal_throttled", "Throttle/power flags now set (1) or not.", labels=["flag"])
    for flag, on in sorted(thermal["throttled"].items()):
        flags.add_metric([flag], int(on))
    changes = CounterMetricFamily("edge_thermal_changes", "Thermal state changes.", labels=["change"])
    for change, n in sorted(thermal["changes"].items()):
        changes.add_metric([change], n)
    shed = CounterMetricFamily(
        "edge_thermal_shed_frames", "Frames the thermal state shed, by stream.", labels=["stream"]
    )
    for stream, n in sorted(thermal["shed"].items()):
        shed.add_metric([stream], n)
    yield from (state, temps, flags, changes, shed)
    if thermal["lanes"] is not None:
        yield GaugeMetricFamily(
            "edge_thermal_lane_limit", "Lanes the thermal state leaves in use.", value=thermal["lanes"]
        )
    if thermal.get("threads") is not None:
        yield GaugeMetricFamily(
            "edge_thermal_thread_limit", "Interpreter threads the thermal state allows.", value=thermal["threads"]
        )
