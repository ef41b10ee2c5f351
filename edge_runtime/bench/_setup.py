"""What every benchmark shares: the model, its measured service time, and configs built in memory."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_runtime.frames import Frame
from edge_runtime.inference import ModelConfig, load_model
from edge_runtime.plan import ServiceTime, measure_runs
from edge_runtime.sections import AcceleratorConfig

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = ROOT / "models" / "mobilenet_v2_int8.tflite"


@dataclass(frozen=True)
class BenchModel:
    path: Path
    size: tuple[int, int]  # (width, height) of frames fed to it: the model's input size, so resize is a copy
    threads: int

    def config(self) -> ModelConfig:
        return ModelConfig.model_validate(
            {"path": str(self.path), "decoder": {"type": "classification", "top_k": 1}, "input": {"resize": "stretch"}}
        )

    def yaml_entry(self) -> str:
        return f"{{path: {self.path}, decoder: {{type: classification, top_k: 1}}, input: {{resize: stretch}}}}"

    def accel(self, lanes: int = 1) -> AcceleratorConfig:
        return AcceleratorConfig(threads=self.threads, lanes=lanes)


def frame(model: BenchModel, seq: int = 0) -> Frame:
    rng = np.random.default_rng(seq)
    image = rng.integers(0, 255, (model.size[1], model.size[0], 3), dtype=np.uint8)
    return Frame("bench", seq, time.time(), time.monotonic(), image)


def measure_service_time(model: BenchModel, runs: int = 200) -> float:
    """Median seconds of one `Runner.run` (preprocess + invoke + decode): the S of the overload targets."""
    handle = load_model("bench", model.config(), model.accel(), ROOT)
    runner = handle.instantiate()
    item = frame(model)
    for _ in range(20):
        runner.run(item)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        runner.run(item)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_service(model: BenchModel, seconds: float = 1.0) -> ServiceTime:
    """Median and p99 of one `Runner.run`, for the capacity plan (the plan's own measuring loop)."""
    handle = load_model("bench", model.config(), model.accel(), ROOT)
    return measure_runs(handle.instantiate(), [frame(model)], seconds)


def input_size(path: Path, threads: int) -> tuple[int, int]:
    from edge_runtime.inference import LiteInterpreter

    interp = LiteInterpreter(path, AcceleratorConfig(threads=threads), f"model 'bench' ({path})")
    shape = interp.inputs[0].shape
    return int(shape[2]), int(shape[1])
