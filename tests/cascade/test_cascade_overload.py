"""Cascades under overload (4x what one lane can take, so a cost measured while the machine was busier still
overloads it): the high stream's crops keep its deadline, the low stream's work is shed and counted."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import yaml

from edge_runtime.frames import Frame
from edge_runtime.inference import ModelConfig, load_model
from edge_runtime.sections import AcceleratorConfig
from tests.cascade.conftest import build, photo, write_photos

DEADLINE_MS = 400  # the high stream's
LOW_DEADLINE_MS = 60  # the low stream waits behind the high one: its late crops are shed


def _frame_cost(models_yaml: str) -> float:
    """Seconds of accelerator time one astronaut frame takes: the face detector, then landmarks on its crop."""
    models = yaml.safe_load(models_yaml)["models"]
    accel = AcceleratorConfig(threads=1)
    faces = load_model("faces", ModelConfig.model_validate(models["faces"]), accel, Path("/")).instantiate()
    marks = load_model("marks", ModelConfig.model_validate(models["face_landmarks"]), accel, Path("/")).instantiate()
    image = Frame("cost", 0, 0.0, 0.0, photo("astronaut"))
    crop = Frame("cost", 0, 0.0, 0.0, photo("astronaut")[40:200, 160:320].copy())
    started = time.perf_counter()
    for _ in range(20):
        faces.run(image)
        marks.run(crop)
    return (time.perf_counter() - started) / 20


def test_high_cascade_keeps_its_deadline_low_crops_are_shed(tmp_path: Path, models_yaml: str) -> None:
    capacity = 1.0 / _frame_cost(models_yaml)  # frames per second one lane can take
    images = write_photos(tmp_path / "images", ["astronaut"], ".bmp")  # quick to decode
    pipeline = """
    pipeline:
      - {type: infer, model: faces}
      - {type: infer, model: face_landmarks, on: {labels: [face]}}
    sinks: [mem]"""
    runtime, _memory = build(
        tmp_path,
        models_yaml,
        f"""\
  high:
    source: {{type: images, path: {images}, fps: {capacity * 0.5:.1f}, loop: true, realtime: true}}
    priority: high
    deadline_ms: {DEADLINE_MS}{pipeline}
  low:
    source: {{type: images, path: {images}, fps: {capacity * 3.5:.1f}, loop: true, realtime: true}}
    priority: low
    deadline_ms: {LOW_DEADLINE_MS}{pipeline}""",
    )
    asyncio.run(runtime.run(duration=4))
    high, low = (parts.runner.stats for parts in runtime.streams)
    high_crops, low_crops = high.crops["face_landmarks"], low.crops["face_landmarks"]
    assert high.completed > 10
    assert high_crops.offered > 10
    assert high_crops.completed == high_crops.offered, high_crops.snapshot()  # all done before the deadline
    assert high_crops.drops.total == 0
    assert high.latency.quantiles()["p99_ms"] < DEADLINE_MS
    # the low stream's work is what is shed: its frames superseded or stale, its crops stale when they wait (a crop
    # carries its frame's deadline and goes ahead of newer low frames, so it is shed only when something stalls)
    assert low.drops.total + low_crops.drops.total > 0
    assert low_crops.offered == low_crops.completed + low_crops.drops.total  # each crop counted once
    assert set(low_crops.drops.snapshot()) <= {"crop_stale", "stale", "superseded", "queue_full", "shutdown"}
    for stats in (high, low):
        assert stats.offered == stats.completed + stats.gated + stats.drops.total
