"""A file source is back-pressured: every frame it offers runs, in order, however slow the model; none is superseded
(superseding is for live cameras, where the newest frame wins)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import cv2
import numpy as np

from edge_runtime.config import load_config
from edge_runtime.engine import build_runtime
from edge_runtime.sinks import MemorySink
from tests.engine.test_runtime import digits_config
from tests.scheduler.jobs import SleepModel

FRAMES = 40


def test_every_frame_of_an_images_source_runs_in_order_behind_a_slow_model(tmp_path: Path) -> None:
    images = tmp_path / "images"
    images.mkdir()
    for i in range(FRAMES):
        cv2.imwrite(str(images / f"{i:04d}.png"), np.full((8, 8, 3), i, dtype=np.uint8))
    cfg = digits_config(tmp_path, f"{{type: images, path: {images}, fps: 1000}}", sinks="[mem]")
    runtime, service = build_runtime(load_config(cfg), cfg.parent, display="off")
    model = SleepModel(name="digits", seconds=0.01)  # much slower than the source: jobs queue up behind the lane
    service.set_model("digits", model)
    asyncio.run(asyncio.wait_for(runtime.run(), 60))
    stats = runtime.streams[0].runner.stats
    assert stats.drops.snapshot() == {}
    assert stats.offered == stats.completed == FRAMES
    assert [seq for _, seq in model.runs] == sorted(seq for _, seq in model.runs)
    memory = next(s for s in runtime.sinks if s.name == "mem")
    assert isinstance(memory, MemorySink)
    assert len(memory.envelopes) == FRAMES
