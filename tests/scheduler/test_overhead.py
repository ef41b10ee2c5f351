"""What the accelerator service adds per frame, against calling the same runner in a bare loop.

Prints the figures (run with ``-s``) and checks every frame completed; timings are not asserted, since they vary
on a loaded machine (`edge-runtime bench` reports them side by side).
"""

from __future__ import annotations

import asyncio
import time

import pytest

from edge_runtime.scheduler import AcceleratorService
from edge_runtime.sections import AcceleratorConfig
from tests.scheduler.jobs import SleepModel, make_job

FRAMES = 300
SERVICE_S = 0.002


def bare_loop_seconds(model: SleepModel) -> float:
    runner = model.instantiate()
    frame = make_job("cam", 0, time.monotonic()).frame
    start = time.perf_counter()
    for _ in range(FRAMES):
        runner.run(frame)
    return (time.perf_counter() - start) / FRAMES


async def service_seconds(model: SleepModel) -> tuple[float, float]:
    """(one frame at a time, submit to outcome; two streams keeping the lane busy, per frame)."""
    service = AcceleratorService(AcceleratorConfig(), {"m": model})
    service.register_stream("a", "normal", 1000)
    service.register_stream("b", "high", 1000)
    async with service:
        for seq in range(10):  # warm up: the lane makes its runner
            await service.submit(make_job("a", seq, time.monotonic()))
        start = time.perf_counter()
        for seq in range(FRAMES):
            await service.submit(make_job("a", seq, time.monotonic()))
        one_at_a_time = (time.perf_counter() - start) / FRAMES
        start = time.perf_counter()
        pending = service.submit(make_job("a", 0, time.monotonic()))
        for seq in range(FRAMES - 1):
            following = service.submit(make_job("b" if seq % 2 == 0 else "a", seq + 1, time.monotonic()))
            await pending
            pending = following
        await pending
        busy = (time.perf_counter() - start) / FRAMES
    assert service.snapshot()["streams"]["a"]["drops"] == {}
    return one_at_a_time, busy


@pytest.mark.timeout(60)
def test_service_overhead_per_frame() -> None:
    model = SleepModel(seconds=SERVICE_S)
    bare = bare_loop_seconds(model)
    one_at_a_time, busy = asyncio.run(service_seconds(model))
    print(
        f"\nrunner {SERVICE_S * 1e3:.1f} ms, {FRAMES} frames: bare loop {bare * 1e6:.0f} µs/frame; service adds "
        f"{(one_at_a_time - bare) * 1e6:.0f} µs/frame one at a time (submit to outcome), "
        f"{(busy - bare) * 1e6:.0f} µs/frame with the lane kept busy"
    )
