"""Uplink: the `high` stream's latency with the cloud uplink idle vs busy.

A `high` stream (synthetic frames at 30 fps through the bench model, sink `mem`) runs next to a `sensors` stream
of synthetic readings at `READINGS_PER_S`, in one device config with a `cloud:` section pointing at a local
mosquitto that this bench starts. Four cases, run by the real runtime (all but `alone` twice, see ORDER), each
run `seconds` long:

* `alone`: the `high` stream only;
* `idle`: the readings go to a memory sink: the runtime carries the same load, nothing goes to `cloud` (so the
  uplink is not started: the runtime runs only the sinks some stream uses);
* `busy`: the readings go to `cloud`: the outbox commits them and the uplink publishes them at QoS 1;
* `broker`: as `idle`, while a plain paho client in another process publishes as many messages a second at QoS 1
  to the same mosquitto (`_publisher.py`): the load a busy uplink puts on this machine outside the runtime.

`busy` vs `idle` is what a busy uplink costs the high stream (target: p99 at most +10%); `broker` vs `idle` is the
part of it that the broker and a client's work on the same cores cost (a device's broker is elsewhere), and
`busy` vs `broker` the part the runtime's own uplink adds. Without a mosquitto binary the part is skipped, saying
so.

Latencies are those of the steady state: each run lasts `WARMUP_S` longer, and the frames captured in that first
second (the model's first invokes, the outbox opening, the broker connecting) are left out. With 300 frames a p99
is the third worst, so a start-up hiccup would otherwise be the figure.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from cloud_sync.bench import mosquitto
from edge_runtime.bench._interval import interval, ratio_interval
from edge_runtime.bench._setup import BenchModel
from edge_runtime.config import load_config
from edge_runtime.engine import build_runtime
from edge_runtime.sinks import MemorySink
from edge_runtime.sinks.cloud import CloudSink

HIGH_FPS = 30.0
READINGS_PER_S = 2000.0
WARMUP_S = 1.0  # frames captured this long after a run starts are not counted
# idle, broker and busy run twice each, nested (idle broker busy busy broker idle): a load on the machine that rises
# or falls during the bench weighs on them alike. Each run is `seconds` long; a case's figures pool its runs' frames.
ORDER = ("alone", "idle", "broker", "busy", "busy", "broker", "idle")
TARGET = "high p99 with the uplink busy <= 1.10 x idle"


def uplink_yaml(model: BenchModel, case: str, port: int, outbox: Path) -> str:
    width, height = model.size
    sensors = (
        ""
        if case == "alone"
        else f"""\
  sensors:
    source: {{type: synthetic, kind: readings, fps: {READINGS_PER_S:g}, fields: [t, rh, p]}}
    priority: low
    sinks: [{"cloud" if case == "busy" else "readings"}]
"""
    )
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


class Run(NamedTuple):
    latencies: np.ndarray  # seconds, frames of the steady state
    figures: dict[str, Any]  # readings_per_s, and the uplink's delivered / backlog / drops when busy


def run_case(model: BenchModel, case: str, seconds: float, port: int, stem: Path) -> Run:
    """One run; its config and outbox are `stem` + .yaml / .db (a fresh outbox each run)."""
    path = stem.with_suffix(".yaml")
    path.write_text(uplink_yaml(model, case, port, stem.with_suffix(".db")))
    runtime, _ = build_runtime(load_config(path), path.parent, display="off")
    load = _publisher(port, seconds + WARMUP_S) if case == "broker" else None
    steady = time.time() + WARMUP_S
    try:
        asyncio.run(runtime.run(seconds + WARMUP_S))
    finally:
        published = _published(load) if load is not None else None
    mem = next(k for k in runtime.sinks if isinstance(k, MemorySink) and k.name == "mem")
    latencies = np.array(
        [e["ts_result"] - e["ts_capture"] for e in mem.envelopes if e["stream"] == "high" and e["ts_capture"] >= steady]
    )
    figures: dict[str, Any] = {} if published is None else {"load_published": published}
    readings = next((parts.runner.stats for parts in runtime.streams if parts.runner.stats.stream == "sensors"), None)
    if readings is not None:
        figures["readings_per_s"] = readings.completed / (seconds + WARMUP_S)
    cloud = next((k for k in runtime.sinks if isinstance(k, CloudSink)), None)
    if cloud is not None:
        stats = cloud.uplink.stats()
        figures["uplink"] = {
            "delivered": stats["delivered"],
            "backlog": stats["outbox"]["entries"],
            "drops": stats["drops"],
        }
    return Run(latencies, figures)


def _publisher(port: int, seconds: float) -> subprocess.Popen[bytes]:
    """The `broker` case's load: a paho client in its own process, publishing READINGS_PER_S a second."""
    command = [sys.executable, "-m", "edge_runtime.bench._publisher", str(port), f"{READINGS_PER_S:g}", f"{seconds:g}"]
    return subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def _published(load: subprocess.Popen[bytes]) -> int:
    """What the load process says the broker acknowledged (0 when it failed or hangs)."""
    try:
        out, _ = load.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        load.kill()
        load.wait(5)
        return 0
    return int(out) if load.returncode == 0 and out.strip().isdigit() else 0


def _ms(latencies: np.ndarray, q: float) -> float:
    return float(np.percentile(latencies, q)) * 1e3 if latencies.size else 0.0


def pooled(runs: list[Run]) -> dict[str, Any]:
    """One case's runs as one: percentiles of all their frames, each run's p99, rates averaged, counts summed."""
    latencies = np.concatenate([r.latencies for r in runs])
    result: dict[str, Any] = {
        "high_results": int(latencies.size),
        "p50_ms": _ms(latencies, 50),
        "p99_ms": _ms(latencies, 99),
        "run_p99_ms": [_ms(r.latencies, 99) for r in runs],
        "p99_interval_ms": [b * 1e3 for b in interval(latencies)],
    }
    rates = [r.figures["readings_per_s"] for r in runs if "readings_per_s" in r.figures]
    if rates:
        result["readings_per_s"] = sum(rates) / len(rates)
    uplinks = [r.figures["uplink"] for r in runs if "uplink" in r.figures]
    if uplinks:
        drops: dict[str, int] = {}
        for u in uplinks:
            for reason, n in u["drops"].items():
                drops[reason] = drops.get(reason, 0) + n
        result["uplink"] = {
            "delivered": sum(u["delivered"] for u in uplinks),
            "backlog": sum(u["backlog"] or 0 for u in uplinks),
            "drops": drops,
        }
    loads = [r.figures["load_published"] for r in runs if "load_published" in r.figures]
    if loads:
        result["load_published"] = sum(loads)
    return result


def run(model: BenchModel, seconds: float) -> dict[str, Any]:
    """Every case of ORDER against one broker; {"skipped": reason} when mosquitto is not installed."""
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():
        return {"skipped": "mosquitto is not installed (apt-get install mosquitto)"}
    runs: dict[str, list[Run]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-uplink-") as tmp, mosquitto(Path(tmp)) as port:
        for index, case in enumerate(ORDER):
            runs.setdefault(case, []).append(run_case(model, case, seconds, port, Path(tmp) / f"{index}-{case}"))
    cases = {case: pooled(case_runs) for case, case_runs in runs.items()}
    latencies = {case: np.concatenate([r.latencies for r in case_runs]) for case, case_runs in runs.items()}
    result: dict[str, Any] = {"readings_per_s": READINGS_PER_S, "cases": cases}
    for top, bottom in (("busy", "idle"), ("broker", "idle"), ("busy", "broker")):
        p99 = f"p99_{top}_over_{bottom}"
        result[p99] = _ratio(cases[top]["p99_ms"], cases[bottom]["p99_ms"])
        result[f"{p99}_interval"] = list(ratio_interval(latencies[top], latencies[bottom]))
    result["p50_busy_over_idle"] = _ratio(cases["busy"]["p50_ms"], cases["idle"]["p50_ms"])
    return result


def _ratio(top: float, bottom: float) -> float:
    return top / bottom if bottom else 0.0


def lines(result: dict[str, Any]) -> list[str]:
    if "skipped" in result:
        return [f"uplink: skipped: {result['skipped']}"]
    out = [
        f"uplink: high at {HIGH_FPS:g} fps; readings at {result['readings_per_s']:g}/s to memory (idle) or "
        f"to cloud (busy, QoS 1, local mosquitto); the first {WARMUP_S:g} s of each run left out"
    ]
    for case, c in result["cases"].items():
        rate = f"   readings done {c['readings_per_s']:6.0f}/s" if "readings_per_s" in c else ""
        if "uplink" in c:
            rate += f", delivered {c['uplink']['delivered']}, drops {c['uplink']['drops'] or 'none'}"
        if "load_published" in c:
            rate += f", another process published {c['load_published']}"
        each = "/".join(f"{p:.2f}" for p in c["run_p99_ms"])
        out.append(
            f"  {case:<6} high p50 {c['p50_ms']:7.2f} ms  p99 {c['p99_ms']:7.2f} ms (runs {each})  "
            f"({c['high_results']} results){rate}"
        )
    low, high = result["p99_busy_over_idle_interval"]
    out.append(f"  busy/idle: p50 x{result['p50_busy_over_idle']:.3f}, p99 x{result['p99_busy_over_idle']:.3f}"
               f" [x{low:.3f}-x{high:.3f}]")  # fmt: skip
    for part, what in (("broker_over_idle", "the broker and a client on these cores"),
                       ("busy_over_broker", "the runtime's own uplink")):  # fmt: skip
        low, high = result[f"p99_{part}_interval"]
        out.append(f"    of which {what}: p99 x{result[f'p99_{part}']:.3f} [x{low:.3f}-x{high:.3f}]")
    return out
