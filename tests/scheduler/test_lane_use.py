"""Running on fewer lanes (the thermal section's `lanes` action): paused lanes take no new job until resumed."""

from __future__ import annotations

import asyncio
import os
import threading

import pytest

from edge_runtime.config import AcceleratorConfig
from edge_runtime.jobs import Completed
from edge_runtime.scheduler import AcceleratorService
from tests.scheduler.jobs import SleepModel
from tests.scheduler.service_support import accounted, gated, run, submit, until


def test_a_paused_lane_takes_no_new_job_until_all_lanes_are_used_again() -> None:
    async def scenario() -> None:
        model = SleepModel()
        service = AcceleratorService(AcceleratorConfig(lanes=2), {"m": model})
        for stream in ("a", "b"):
            service.register_stream(stream, "normal")
        async with service:
            service.use_lanes(1)
            gate = gated(model)
            futures = [submit(service, "a", 1), submit(service, "b", 1)]
            await until(lambda: len(model.runs) == 1)
            await asyncio.sleep(0.2)
            assert len(model.runs) == 1  # one job waits: the other lane is paused
            service.use_lanes(None)
            await until(lambda: len(model.runs) == 2, timeout=2)
            gate.set()
            outcomes = await asyncio.gather(*futures)
            assert all(isinstance(o, Completed) for o in outcomes), outcomes
            assert {o.payload["thread"] for o in outcomes if isinstance(o, Completed)} == {"lane-0", "lane-1"}
            accounted(service)

    run(scenario)


def _thread_nice(service: AcceleratorService) -> list[int]:
    """Each lane thread's OS nice value, as the kernel has it (per thread on Linux)."""
    threads = [lane._thread for lane in service._dispatcher.lanes]
    return [os.getpriority(os.PRIO_PROCESS, t.native_id or 0) for t in threads if t is not None]


@pytest.mark.parametrize(
    ("accelerator", "raised"),
    [
        ({"lanes": 2, "reserve": {"high": 1}}, [0, 10]),  # the general lane yields to the reserved one
        ({"lanes": 2, "reserve": {"high": 1}, "reserved_alone": False}, [0, 0]),
        ({"lanes": 2}, [0, 0]),  # no reserve: every lane alike
    ],
)
def test_with_reserved_alone_the_general_lanes_run_at_a_lower_os_priority(
    accelerator: dict[str, object], raised: list[int]
) -> None:
    async def scenario() -> list[int]:
        service = AcceleratorService(AcceleratorConfig.model_validate(accelerator), {"m": SleepModel()})
        service.register_stream("cam", "high")
        async with service:
            for seq in range(4):  # every lane thread has started
                await submit(service, "cam", seq)
            await until(lambda: all(lane._thread is not None for lane in service._dispatcher.lanes))
            return [n - base for n in _thread_nice(service)]

    base = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())  # the loop's thread, which starts the lanes
    assert asyncio.run(scenario()) == raised
