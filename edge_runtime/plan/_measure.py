"""Each model's service time on this device, measured once and cached by model file, threads and delegate.

A run is what a lane does per frame: preprocess + invoke + decode (`Runner.run`), timed with the inference
benchmark's loop on a noise frame; the median and p99 over about `seconds` are kept in ``<cache>/service.json``
under ``sha256:threads:delegate``, so a second plan (or the runtime's plan at start) measures nothing.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from edge_runtime.config import AcceleratorConfig, RuntimeConfig
from edge_runtime.frames import Frame
from edge_runtime.inference import ModelConfig, load_model, model_sha256
from edge_runtime.inference.bench import timed
from edge_runtime.plan._predict import ServiceTime

log = logging.getLogger("edge_runtime.plan")

DEFAULT_CACHE = Path("var/plan")
CACHE_FILE = "service.json"
MAX_CACHE_BYTES = 1 << 20


def cache_key(sha256: str, accel: AcceleratorConfig) -> str:
    return f"{sha256}:{accel.interpreter_threads}:{accel.delegate}"


def service_times(
    config: RuntimeConfig, base_dir: Path, cache_dir: Path, *, fresh: bool = False, seconds: float = 1.0
) -> dict[str, ServiceTime]:
    """The service time of every model the streams use: from the cache, else measured now (and cached)."""
    cache = {} if fresh else _read(cache_dir / CACHE_FILE)
    times: dict[str, ServiceTime] = {}
    for name in sorted(set(_used_models(config))):
        times[name] = _time_model(name, config.models[name], config.accelerator, base_dir, cache, seconds=seconds)
    _write(cache_dir / CACHE_FILE, cache)
    return times


def measure_handle(runner: object, input_shape: tuple[int, ...], seconds: float) -> ServiceTime:
    """Time `runner.run` on a noise frame of the model's input size."""
    height, width = (int(input_shape[1]), int(input_shape[2])) if len(input_shape) == 4 else (224, 224)
    image = np.random.default_rng(0).integers(0, 256, (height, width, 3), dtype=np.uint8)
    return measure_runs(runner, [Frame("plan", 0, time.time(), time.monotonic(), image)], seconds)


def measure_runs(runner: object, frames: list[Frame], seconds: float) -> ServiceTime:
    """Time `runner.run` over `frames` (in turn) for about `seconds`; the first run warms up and is not timed."""
    run = runner.run  # type: ignore[attr-defined]
    run(frames[0])
    turn = itertools.cycle(frames)
    ms = np.asarray(timed(lambda: run(next(turn)), seconds))
    return ServiceTime(float(np.median(ms)) / 1e3, float(np.percentile(ms, 99)) / 1e3, len(ms))


def _time_model(
    name: str, model: ModelConfig, accel: AcceleratorConfig, base_dir: Path, cache: dict[str, dict[str, float]], *,
    seconds: float,
) -> ServiceTime:  # fmt: skip
    key = cache_key(model_sha256(name, model, base_dir), accel)
    hit = cache.get(key)
    if hit is not None:  # no interpreter opened: the runtime's plan at start costs no memory on a warm cache
        return ServiceTime(hit["median_ms"] / 1e3, hit["p99_ms"] / 1e3, int(hit["runs"]))
    handle = load_model(name, model, accel, base_dir)
    log.info("measuring model %r (%s threads, %s) for %.1f s", name, accel.interpreter_threads, accel.delegate, seconds)
    measured = measure_handle(handle.instantiate(), handle.model.plan.tensor.shape, seconds)
    cache[key] = {"median_ms": measured.median_s * 1e3, "p99_ms": measured.p99_s * 1e3, "runs": measured.runs}
    return measured


def _used_models(config: RuntimeConfig) -> Iterable[str]:
    from edge_runtime.config._models import InferStageConfig

    for stream in config.streams.values():
        if isinstance(stream.pipeline, list):
            yield from (s.model for s in stream.pipeline if isinstance(s, InferStageConfig))


def _read(path: Path) -> dict[str, dict[str, float]]:
    """The cache; a missing, oversized or unreadable one is empty (it is only a cache)."""
    try:
        if path.stat().st_size > MAX_CACHE_BYTES:
            return {}
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if _valid_entry(v)}


def _valid_entry(entry: object) -> bool:
    return isinstance(entry, dict) and all(
        isinstance(entry.get(k), int | float) and entry[k] >= 0 for k in ("median_ms", "p99_ms", "runs")
    )


def _write(path: Path, cache: dict[str, dict[str, float]]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(cache, indent=1, sort_keys=True), encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        log.warning("plan: cannot write the service-time cache %s: %s", path, exc)
