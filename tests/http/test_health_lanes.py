"""/healthz names a model whose lanes keep getting stuck (the scheduler's watchdog holds it as unhealthy)."""

from __future__ import annotations

import asyncio

from edge_runtime.config import RuntimeConfig
from edge_runtime.http._health import Health
from edge_runtime.http._view import RuntimeView
from tests.scheduler.service_support import run, submit
from tests.scheduler.test_watchdog import HangingModel, _service


def test_a_model_stuck_on_its_lanes_makes_healthz_fail() -> None:
    async def scenario() -> None:
        model = HangingModel({1, 2})
        service = _service(model, unhealthy_after=2)
        config = RuntimeConfig.model_validate({"streams": {"cam": {"source": {"type": "synthetic"}}}})
        health = Health(RuntimeView(config, [], service), link_down_s=60)
        try:
            async with service:
                assert health.causes() == []
                for seq in (1, 2):
                    await asyncio.wait_for(submit(service, "cam", seq), 5)
                assert health.causes() == ["model 'm': lanes stuck running it (the watchdog refuses its jobs for now)"]
        finally:
            model.release.set()

    run(scenario)
