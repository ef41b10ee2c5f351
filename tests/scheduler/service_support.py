"""Running the accelerator service inside a test: start, wait for lane-side conditions, check the books."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

from edge_runtime.jobs import Outcome
from edge_runtime.scheduler import AcceleratorService
from tests.scheduler.jobs import SleepModel, make_job


def run(test: Callable[[], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(test())


async def serve_until_cancelled(service: AcceleratorService) -> None:
    """The service entered in a task of its own, as a runtime holds it; cancelling the task stops it."""
    async with service:
        await asyncio.Event().wait()


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
