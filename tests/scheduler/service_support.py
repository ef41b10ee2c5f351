"""Running the accelerator service inside a test: start, wait for lane-side conditions, check the books."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager, suppress
from typing import Any

from edge_runtime.jobs import Outcome
from edge_runtime.scheduler import AcceleratorService
from tests.scheduler.jobs import SleepModel, make_job


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(test())


@asynccontextmanager
async def serving(service: AcceleratorService) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(service.run(), name="accelerator")
    await asyncio.sleep(0)
    try:
        yield task
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Wait (on the loop) until a lane-side condition holds."""
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "condition not reached"
        await asyncio.sleep(0.002)


def submit(service: AcceleratorService, stream: str, seq: int, model: str = "m") -> asyncio.Future[Outcome]:
    return service.submit(make_job(stream, seq, time.monotonic(), model=model))


def gated(model: SleepModel) -> threading.Event:
    model.gate = threading.Event()
    return model.gate


def accounted(service: AcceleratorService) -> None:
    """Every stream: submitted == completed + drops + queued + running."""
    for name, s in service.snapshot()["streams"].items():
        assert s["submitted"] == s["completed"] + sum(s["drops"].values()) + s["queued"] + s["running"], name
