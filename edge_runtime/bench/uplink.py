"""Uplink: the `high` stream's latency with the cloud uplink idle vs busy.

A `high` stream (synthetic frames at 30 fps through the bench model, sink `mem`) runs next to a `sensors` stream
of synthetic readings at `READINGS_PER_S`, in one device config with a `cloud:` section pointing at a local
mosquitto that this bench starts. Three runs by the real runtime, each `seconds` long:

* `alone`: the `high` stream only;
* `idle`: the readings go to a memory sink: the runtime carries the same load, nothing goes to `cloud` (so the
  uplink is not started: the runtime runs only the sinks some stream uses);
* `busy`: the readings go to `cloud`: the outbox commits them and the uplink publishes them at QoS 1.

`busy` vs `idle` is what a busy uplink costs the high stream (target: p99 at most +10%). Without a mosquitto
binary the part is skipped, saying so.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from cloud_sync.bench import mosquitto
from edge_runtime.bench._setup import BenchModel
from edge_runtime.config import load_config
from edge_runtime.engine import build_runtime
from edge_runtime.sinks import MemorySink
from edge_runtime.sinks.cloud import CloudSink

HIGH_FPS = 30.0
READINGS_PER_S = 2000.0
CASES = ("alone", "idle", "busy")
TARGET = "high p99 with the uplink busy <= 1.10 x idle"


def uplink_yaml(model: BenchModel, case: str, port: int, outbox: Path) -> str:
    width, height = model.size
    sensors = "" if case == "alone" else f"""\
  sensors:
    source: {{type: synthetic, kind: readings, fps: {READINGS_PER_S:g}, fields: [t, rh, p]}}
    priority: low
    sinks: [{"cloud" if case == "busy" else "readings"}]
"""
    return f"""\
device: {{id: bench}}
accelerator: {{threads: {model.threads}, lanes: 1}}
models:
  net: {model.yaml_entry()}
streams:
  high:
    source: {{type: synthetic, pattern: noise, width: {width}, height: {height}, fps: {HIGH_FPS:g}}}
    priority: high
    pipeline: [{{type: infer, model: net}}]
    sinks: [mem]
{sensors}sinks:
  mem: {{type: memory, capacity: 1000000}}
  readings: {{type: memory, capacity: 1000}}
cloud:
  mqtt: {{host: 127.0.0.1, port: {port}}}
  outbox: {{path: {outbox}}}
status: {{display: off}}
"""


def run_case(model: BenchModel, case: str, seconds: float, port: int, workdir: Path) -> dict[str, Any]:
    path = workdir / f"uplink-{case}.yaml"
    path.write_text(uplink_yaml(model, case, port, workdir / f"outbox-{case}.db"))
    runtime, _ = build_runtime(load_config(path), path.parent, display="off")
    asyncio.run(runtime.run(seconds))
    mem = next(k for k in runtime.sinks if isinstance(k, MemorySink) and k.name == "mem")
    latencies = np.array([e["ts_result"] - e["ts_capture"] for e in mem.envelopes if e["stream"] == "high"])
    p50, p99 = np.percentile(latencies, [50, 99]).tolist() if latencies.size else (0.0, 0.0)
    result: dict[str, Any] = {"high_results": int(latencies.size), "p50_ms": p50 * 1e3, "p99_ms": p99 * 1e3}
    readings = next((parts.runner.stats for parts in runtime.streams if parts.runner.stats.stream == "sensors"), None)
    if readings is not None:
        result["readings_per_s"] = readings.completed / seconds
    cloud = next((k for k in runtime.sinks if isinstance(k, CloudSink)), None)
    if cloud is not None:
        stats = cloud.uplink.stats()
        result["uplink"] = {"delivered": stats["delivered"], "backlog": stats["outbox"]["entries"],
                            "drops": stats["drops"]}
    return result


def run(model: BenchModel, seconds: float) -> dict[str, Any]:
    """All three cases against one broker; {"skipped": reason} when mosquitto is not installed."""
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        return {"skipped": "mosquitto is not installed (apt-get install mosquitto)"}
    with tempfile.TemporaryDirectory(prefix="bench-uplink-") as tmp, mosquitto(Path(tmp)) as port:
        cases = {case: run_case(model, case, seconds, port, Path(tmp)) for case in CASES}
    idle, busy = cases["idle"], cases["busy"]
    return {
        "readings_per_s": READINGS_PER_S,
        "cases": cases,
        "p99_busy_over_idle": busy["p99_ms"] / idle["p99_ms"] if idle["p99_ms"] else 0.0,
        "p50_busy_over_idle": busy["p50_ms"] / idle["p50_ms"] if idle["p50_ms"] else 0.0,
    }


def lines(result: dict[str, Any]) -> list[str]:
    if "skipped" in result:
        return [f"uplink: skipped: {result['skipped']}"]
    out = [f"uplink: high at {HIGH_FPS:g} fps; readings at {result['readings_per_s']:g}/s to memory (idle) or "
           "to cloud (busy, QoS 1, local mosquitto)"]
    for case, c in result["cases"].items():
        rate = f"   readings done {c['readings_per_s']:6.0f}/s" if "readings_per_s" in c else ""
        if "uplink" in c:
            rate += f", delivered {c['uplink']['delivered']}, drops {c['uplink']['drops'] or 'none'}"
        out.append(f"  {case:<5} high p50 {c['p50_ms']:7.2f} ms  p99 {c['p99_ms']:7.2f} ms  "
                   f"({c['high_results']} results){rate}")
    out.append(f"  busy/idle: p50 x{result['p50_busy_over_idle']:.3f}, p99 x{result['p99_busy_over_idle']:.3f}")
    return out
