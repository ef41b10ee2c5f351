"""Invoke latency per model and thread count, plus preprocess and decode cost per frame.

    python -m edge_runtime.inference.bench [--models-dir models] [--seconds 2.5]

Prints a table; figures depend on the machine (and on what else it is doing), so nothing here asserts.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_runtime.frames import Frame
from edge_runtime.inference._config import ModelConfig
from edge_runtime.inference._errors import ModelError
from edge_runtime.inference._model import TfliteRunner, load_model
from edge_runtime.inference.fetch import DEFAULT_DIR, fetch
from edge_runtime.sections import AcceleratorConfig


@dataclass(frozen=True, slots=True)
class Case:
    name: str
    entry: dict[str, Any]


def _cases(models_dir: Path, shipped_dir: Path) -> list[Case]:
    face = fetch("face_detection_short_range", shipped_dir)
    return [
        Case("digits uint8 8x8", {"path": str(models_dir / "digits_uint8.tflite"), "decoder": "classification"}),
        Case("blazeface f32 128", {"path": str(face), "decoder": "blazeface"}),
        Case(
            "mobilenet_v2 int8 224", {"path": str(models_dir / "mobilenet_v2_int8.tflite"), "decoder": "classification"}
        ),
    ]


def timed(step: Callable[[], object], seconds: float, least: int = 20) -> list[float]:
    """Milliseconds of each call of `step`, called for about `seconds` (at least `least` times, at most 5000)."""
    samples: list[float] = []
    end = time.perf_counter() + seconds
    while len(samples) < least or time.perf_counter() < end:
        start = time.perf_counter()
        step()
        samples.append((time.perf_counter() - start) * 1000.0)
        if len(samples) >= 5000:
            break
    return samples


def _row(case: Case, threads: int, frame: np.ndarray[Any, np.dtype[np.uint8]], seconds: float) -> str:
    config = ModelConfig.model_validate(case.entry)
    handle = load_model(case.name, config, AcceleratorConfig(threads=threads), Path("."))
    runner: TfliteRunner = handle.instantiate()
    sample = Frame(case.name, 0, 0.0, 0.0, frame)
    geometry = runner.preprocess(sample)
    invoke = timed(runner.invoke, seconds)
    pre = timed(lambda: runner.preprocess(sample), seconds / 4)
    post = timed(lambda: runner.decode(geometry), seconds / 4)
    p = np.percentile
    return (
        f"{case.name:<22} {threads:>7} {len(invoke):>6} {p(invoke, 50):>11.3f} {p(invoke, 99):>9.3f}"
        f" {p(pre, 50):>10.3f} {p(post, 50):>10.3f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--models-dir", type=Path, default=Path("models"), help="Where the test models are.")
    parser.add_argument("--shipped-dir", type=Path, default=DEFAULT_DIR, help="Where shipped models are fetched to.")
    parser.add_argument("--seconds", type=float, default=2.5, help="Time spent on invoke per row.")
    args = parser.parse_args(argv)
    frame = np.random.default_rng(0).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    print("frame 640x480 BGR; times in ms; preprocess and decode are per frame (median)")
    print(f"{'model':<22} {'threads':>7} {'runs':>6} {'invoke p50':>11} {'p99':>9} {'preproc':>10} {'decode':>10}")
    try:
        cases = _cases(args.models_dir, args.shipped_dir)
        for case in cases:
            for threads in (1, 2):
                print(_row(case, threads, frame, args.seconds), flush=True)
    except ModelError as exc:
        print(f"error: {exc}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
