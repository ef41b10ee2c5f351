"""Overload: a `high` stream at 30 fps and a `low` stream offering the rest of 2x the capacity, on one model.

Built from a real config and run by the real runtime (synthetic sources at their fps, the accelerator service,
the collect path, a memory sink), once per policy, and the priority case again with the accelerator's
`anticipate` off; the lanes part runs its two-lane case with `reserved_alone` on (the default) and off. Latency
is capture to result; S is the service time of one frame (preprocess + invoke + decode) measured alone just
before the case (a shared machine's speed drifts), so the figures read as multiples of S. `S_loaded` is the
mean time a lane spent per job during the case: the same work with the sources and the event loop running
beside it; `p99_loaded_S` is the p99 in multiples of it.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.bench._interval import interval
from edge_runtime.bench._setup import BenchModel, measure_service, measure_service_time
from edge_runtime.config import RuntimeConfig, load_config
from edge_runtime.engine import build_runtime
from edge_runtime.plan import ServiceTime, predict
from edge_runtime.sinks import MemorySink
from edge_runtime.stats import StreamStats

HIGH_FPS = 30.0


def overload_yaml(
    model: BenchModel, policy: str, *, lanes: int, reserve: bool, low_fps: float, s: float, alone: bool = True,
    anticipate: bool = True,
) -> str:  # fmt: skip
    reserve_line = f"  reserve: {{high: 1}}\n  reserved_alone: {str(alone).lower()}\n" if reserve else ""
    width, height = model.size
    synthetic = f"type: synthetic, pattern: noise, width: {width}, height: {height}"
    return f"""\
device: {{id: bench}}
accelerator:
  threads: {model.threads}
  lanes: {lanes}
  policy: {policy}
  anticipate: {str(anticipate).lower()}
{reserve_line}models:
  net: {model.yaml_entry()}
streams:
  high:
    source: {{{synthetic}, fps: {HIGH_FPS}}}
    priority: high
    deadline_ms: {max(100.0, 20 * s * 1e3):.1f}
    pipeline: [{{type: infer, model: net}}]
    sinks: [mem]
  low:
    source: {{{synthetic}, fps: {low_fps:.1f}}}
    priority: low
    deadline_ms: {max(200.0, 40 * s * 1e3):.1f}
    pipeline: [{{type: infer, model: net}}]
    sinks: [mem]
sinks:
  mem: {{type: memory, capacity: 1000000}}
status: {{display: off}}
"""


def run_case(
    model: BenchModel, s: float, seconds: float, policy: str, *, lanes: int = 1, reserve: bool = False,
    reserved_alone: bool = True, anticipate: bool = True,
) -> dict[str, Any]:  # fmt: skip
    """`s`: the bench's S, which sets the offered rates (the same for every case); the figures use S measured now.
    `reserved_alone` (with `reserve`) and `anticipate`: the accelerator's."""
    capacity = 1.0 / s
    low_fps = max(1.0, 2 * capacity - HIGH_FPS)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "overload.yaml"
        yaml = overload_yaml(
            model, policy, lanes=lanes, reserve=reserve, low_fps=low_fps, s=s, alone=reserved_alone,
            anticipate=anticipate,
        )  # fmt: skip
        path.write_text(yaml)
        config = load_config(path)
        runtime, service = build_runtime(config, path.parent, display="off")
        s = measure_service_time(model)
        alone = measure_service(model)
        asyncio.run(runtime.run(seconds))
    lane_figures = service.snapshot()["lanes"]
    s_loaded = sum(lane["busy_s"] for lane in lane_figures) / max(1, sum(lane["jobs"] for lane in lane_figures))
    sink = next(k for k in runtime.sinks if isinstance(k, MemorySink))
    planned = _planned_waits(config, alone, s_loaded, [parts.runner.stats for parts in runtime.streams])
    classes: dict[str, Any] = {}
    for parts in runtime.streams:
        stats = parts.runner.stats
        latencies = np.array(
            [e["ts_result"] - e["ts_capture"] for e in sink.envelopes if e["stream"] == stats.stream], dtype=np.float64
        )
        drops = stats.drops.snapshot()
        scheduler_drops = {k: v for k, v in drops.items() if k != "fps_cap"}
        p50, p99 = np.percentile(latencies, [50, 99]).tolist() if latencies.size else (0.0, 0.0)
        worst = float(latencies.max()) if latencies.size else 0.0
        classes[stats.stream] = {
            "offered": stats.offered,
            "completed": stats.completed,
            "drops": drops,
            "drop_pct": 100 * sum(scheduler_drops.values()) / max(1, stats.offered),
            "goodput_fps": stats.completed / seconds,
            "p50_S": p50 / s,
            "p99_S": p99 / s,
            "p99_interval_S": [bound / s for bound in interval(latencies)],
            "p99_loaded_S": p99 / s_loaded if s_loaded else 0.0,
            "max_S": float(worst) / s,
            "latencies_ms": (latencies * 1e3).round(3).tolist(),
            **planned[stats.stream],
        }
    left_for_low = max(0.0, lanes / s - classes["high"]["goodput_fps"])
    return {
        "policy": policy,
        "service_time_ms": s * 1e3,
        "loaded_service_time_ms": s_loaded * 1e3,
        "lanes": lanes,
        "reserve": {"high": 1} if reserve else {},
        "reserved_alone": reserved_alone if reserve else None,
        "anticipate": anticipate if policy == "priority" else None,
        "offered_fps": {"high": HIGH_FPS, "low": low_fps},
        "capacity_fps": 1 / s,
        "classes": classes,
        "low_share_of_left": classes["low"]["goodput_fps"] / left_for_low if left_for_low else 0.0,
    }


def _planned_waits(
    config: RuntimeConfig, alone: ServiceTime, mean_s: float, streams: list[StreamStats]
) -> dict[str, dict[str, Any]]:
    """Per stream: the plan's wait of the jobs that run with the service time measured alone and with the one seen
    on the lanes during the run (the lanes' mean per job, which is what a queue of jobs adds up to, and the
    streams' p99), beside the measured p99 queue wait (of the jobs that ran), and the plan's worst-case bound
    (ms; None: unbounded, the class is shed)."""
    seen = [s.service.quantiles() for s in streams]
    count = sum(s.service.count for s in streams)
    loaded = ServiceTime(mean_s, max(q["p99_ms"] for q in seen) / 1e3, count)
    plans = {
        label: {p.stream: p for p in predict(config, {"net": times}).streams}
        for label, times in (("alone", alone), ("loaded", loaded))
    }
    return {
        s.stream: {
            "wait_p99_ms": s.queue_wait.quantiles()["p99_ms"],
            "plan_wait_ms": _finite_ms(plans["alone"][s.stream].served_wait_s),
            "plan_wait_loaded_ms": _finite_ms(plans["loaded"][s.stream].served_wait_s),
            "plan_bound_loaded_ms": _finite_ms(plans["loaded"][s.stream].wait_s),
            "plan_served": plans["alone"][s.stream].served_fraction,
        }
        for s in streams
    }


def _finite_ms(seconds: float) -> float | None:
    return None if seconds == float("inf") else seconds * 1e3
