"""Generated frames and readings: counts, seq, pacing, and the latest-wins mailbox under a slow consumer."""

from __future__ import annotations

import asyncio
import itertools
import math
from pathlib import Path

from edge_runtime.drops import SUPERSEDED, DropCounter
from edge_runtime.sources import SyntheticSourceConfig, build_source
from tests.sources._harness import Harness, capture_threads


def start(stream: str, consume_s: float = 0.0, **options: object) -> Harness:
    drops = DropCounter()
    config = SyntheticSourceConfig.model_validate({"type": "synthetic", **options})
    return Harness(build_source(config, stream, drops, Path.cwd()), drops, consume_s)


def test_frames_stop_after_count_with_every_frame_delivered() -> None:
    harness = start("syn", consume_s=0.01, count=12, fps=200, realtime=False, width=64, height=48)

    async def scenario() -> None:
        async with harness:
            await harness.finish(10)

    asyncio.run(scenario())
    frames = harness.frames
    assert [f.seq for f in frames] == list(range(12))
    assert [f.frame for f in frames] == list(range(12))
    assert all(f.image.shape == (48, 64, 3) and f.stream == "syn" for f in frames)
    assert not (frames[0].image == frames[1].image).all()  # the box moves
    assert all(b.t_capture > a.t_capture and b.ts_capture >= a.ts_capture for a, b in itertools.pairwise(frames))
    assert harness.drops.total == 0
    assert capture_threads("syn") == []


def test_readings_are_a_noisy_sine_per_field() -> None:
    harness = start("sensor", kind="readings", count=40, fps=400, fields=["a", "b"], amplitude=2, noise=0.01, seed=1)

    async def scenario() -> None:
        async with harness:
            await harness.finish(10)

    asyncio.run(scenario())
    readings = harness.readings
    assert [r.seq for r in readings] == list(range(40))
    assert all(set(r.values) == {"a", "b"} for r in readings)
    assert all(abs(v) <= 2.1 and math.isfinite(v) for r in readings for v in r.values.values())
    assert readings[0].values["a"] != readings[0].values["b"]  # phase-shifted


def test_slow_consumer_sees_the_newest_frame_and_older_ones_are_counted() -> None:
    harness = start("live", consume_s=0.1, fps=100, width=32, height=24)

    async def scenario() -> None:
        async with harness:
            await harness.wait_for("a few frames", lambda: len(harness.frames) >= 5, timeout=10)

    asyncio.run(scenario())
    seqs = [f.seq for f in harness.frames]
    superseded = harness.drops.snapshot().get(SUPERSEDED, 0)
    print(f"mailbox: consumer got {len(seqs)} frames, {superseded} superseded, seqs {seqs}")
    assert superseded > 0
    assert seqs == sorted(seqs)
    assert seqs[-1] - seqs[0] > len(seqs)  # gaps: the consumer skipped to the newest
    assert capture_threads("live") == []
