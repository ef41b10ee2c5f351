"""The thermal "fewer threads" action on the real digits model: hot swaps in the same version with fewer
interpreter threads (the lanes rebuild their interpreters, as after a model push), normal restores the count."""

from __future__ import annotations

import asyncio
from pathlib import Path

from edge_runtime.config._thermal import ThermalConfig
from edge_runtime.drops import DropCounter
from edge_runtime.jobs import Completed, Job
from edge_runtime.scheduler import AcceleratorService
from edge_runtime.sections import AcceleratorConfig
from edge_runtime.thermal import Readings, ThermalController
from edge_runtime.updates import load_models
from tests.scheduler.service_support import serve_until_cancelled
from tests.updates.support import digits_config, frame


def lane_threads(service: AcceleratorService) -> int:
    """The thread count of the interpreter lane 0 holds for digits (the lane's own runner, read after a job)."""
    _handle, runner = service._dispatcher.lanes[0]._runners["digits"]  # what the lane really holds
    threads: int = runner.model.accel.interpreter_threads  # type: ignore[attr-defined]
    return threads


def test_hot_rebuilds_the_interpreters_with_fewer_threads_and_normal_restores_them(tmp_path: Path) -> None:
    accel = AcceleratorConfig(threads=2)
    service = AcceleratorService(accel, load_models({"digits": digits_config()}, accel, tmp_path, None))
    controller = ThermalController(
        ThermalConfig(hot={"threads": 1}), lambda stream: DropCounter(), use_threads=service.use_threads
    )
    seen: list[tuple[str, int, str]] = []

    async def scenario() -> None:
        task = asyncio.create_task(serve_until_cancelled(service))
        service.register_stream("cam", "normal")
        try:
            for seq, celsius in enumerate((50.0, 85.0, 85.0, 50.0)):
                controller.update(Readings({"cpu": celsius}))
                outcome = await asyncio.wait_for(service.submit(Job("digits", frame(seq))), 10)
                assert isinstance(outcome, Completed), outcome
                seen.append((controller.state, lane_threads(service), outcome.model.sha256))
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    asyncio.run(scenario())
    assert [(state, threads) for state, threads, _ in seen] == [("normal", 2), ("hot", 1), ("hot", 1), ("normal", 2)]
    assert len({sha for _, _, sha in seen}) == 1  # the same model version throughout
    assert controller.snapshot()["threads"] is None
