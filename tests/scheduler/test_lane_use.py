"""Running on fewer lanes (the thermal section's `lanes` action): paused lanes take no new job until resumed."""

from __future__ import annotations

import asyncio

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
