"""Overload: a `high` stream at 30 fps and a `low` stream offering the rest of 2x the capacity, on one model.

Built from a real config and run by the real runtime (synthetic sources at their fps, the accelerator service,
the collect path, a memory sink), once per policy. Latency is capture to result; S is the measured service
time of one frame (preprocess + invoke + decode), so the figures read as multiples of S.
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.bench._setup import BenchModel
from edge_runtime.config import load_config
from edge_runtime.engine import build_runtime
from edge_runtime.sinks import MemorySink

HIGH_FPS = 30.0


def overload_yaml(model: BenchModel, policy: str, *, lanes: int, reserve: bool, low_fps: float, s: float) -> str:
    reserve_line = "  reserve: {high: 1}\n" if reserve else ""
    width, height = model.size
    synthetic = f"type: synthetic, pattern: noise, width: {width}, height: {height}"
    return f"""\
device: {{id: bench}}
accelerator:
  threads: {model.threads}
  lanes: {lanes}
  policy: {policy}
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
    model: BenchModel, s: float, seconds: float, policy: str, *, lanes: int = 1, reserve: bool = False
) -> dict[str, Any]:
    capacity = 1.0 / s
    low_fps = max(1.0, 2 * capacity - HIGH_FPS)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "overload.yaml"
        path.write_text(overload_yaml(model, policy, lanes=lanes, reserve=reserve, low_fps=low_fps, s=s))
        runtime, _ = build_runtime(load_config(path), path.parent, display="off")
        asyncio.run(runtime.run(seconds))
    sink = next(k for k in runtime.sinks if isinstance(k, MemorySink))
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
            "max_S": float(worst) / s,
            "latencies_ms": (latencies * 1e3).round(3).tolist(),
        }
    left_for_low = max(0.0, lanes * capacity - classes["high"]["goodput_fps"])
    return {
        "policy": policy,
        "lanes": lanes,
        "reserve": {"high": 1} if reserve else {},
        "offered_fps": {"high": HIGH_FPS, "low": low_fps},
        "capacity_fps": capacity,
        "classes": classes,
        "low_share_of_left": classes["low"]["goodput_fps"] / left_for_low if left_for_low else 0.0,
    }
