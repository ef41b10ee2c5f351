"""The stuck-lane watchdog with a runner that blocks for seconds, as a hung accelerator would."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from edge_runtime.config import AcceleratorConfig, WatchdogConfig
from edge_runtime.frames import Frame
from edge_runtime.jobs import Completed, Dropped, Runner
from edge_runtime.results import ModelRef
from edge_runtime.scheduler import AcceleratorService
from tests.scheduler.service_support import accounted, run, submit, until

FLOOR_MS = 300.0


class HangingModel:
    """Runners that return at once, except on the frames in `hang_on`: those block until `release` (or 10 s)."""

    def __init__(self, hang_on: set[int], make_s: float = 0.0) -> None:
        self.hang_on = hang_on
        self.make_s = make_s  # making a runner takes this long (a delegate loading)
        self.release = threading.Event()
        self.hanging = threading.Event()

    @property
    def ref(self) -> ModelRef:
        return ModelRef("m", 1, "0" * 64)

    def instantiate(self) -> Runner:
        time.sleep(self.make_s)
        return _HangingRunner(self)


class _HangingRunner(Runner):
    def __init__(self, model: HangingModel) -> None:
        self.model = model
        self.seq = -1

    def preprocess(self, frame: Frame) -> int:
        self.seq = frame.seq
        return frame.seq

    def invoke(self) -> None:
        if self.seq in self.model.hang_on:
            self.model.hanging.set()
            self.model.release.wait(10)

    def decode(self, state: int) -> tuple[str, dict[str, Any]]:
        return "test", {"seq": state, "thread": threading.current_thread().name}


def _dropped(outcome: Completed | Dropped, reason: str) -> Dropped:
    assert isinstance(outcome, Dropped), outcome
    assert outcome.reason == reason, outcome
    return outcome


def _service(model: HangingModel, **watchdog: Any) -> AcceleratorService:
    config = AcceleratorConfig(watchdog=WatchdogConfig(floor_ms=FLOOR_MS, **watchdog))
    service = AcceleratorService(config, {"m": model}, stop_timeout_s=0.2)
    service.register_stream("cam", "high")
    return service


def test_a_stuck_job_ends_stuck_and_a_fresh_lane_serves_the_next_frames_within_a_second() -> None:
    async def scenario() -> None:
        model = HangingModel({2})
        service = _service(model)
        try:
            async with service:
                assert isinstance(await submit(service, "cam", 1), Completed)
                stuck = submit(service, "cam", 2)
                outcome = _dropped(await asyncio.wait_for(stuck, 5), "stuck")
                assert outcome.detail.startswith("lane-0 ran model 'm'")
                assert "lane replaced" in outcome.detail
                started = time.monotonic()
                served = await asyncio.wait_for(submit(service, "cam", 3), 5)
                took = time.monotonic() - started
                assert isinstance(served, Completed), served
                assert served.payload["thread"] == "lane-0.1"  # the fresh lane, while the old one still hangs
                assert took < 1.0, f"the fresh lane served after {took:.2f} s"
                snap = service.snapshot()
                events = snap["watchdog"].pop("events")
                assert snap["watchdog"] == {"stalls": {"m": 1}, "lanes_replaced": 1, "unhealthy": []}
                assert [(e["lane"], e["model"]) for e in events] == [("lane-0", "m")]
                assert events[0]["ran_s"] >= 0.2
                assert (snap["lanes"][0]["stuck"], snap["lanes"][0]["jobs"]) == (1, 2)
                assert snap["streams"]["cam"]["drops"] == {"stuck": 1}
                accounted(service)
        finally:
            model.release.set()

    run(scenario)


def test_repeated_stalls_mark_the_model_unhealthy_and_stop_never_hangs() -> None:
    async def scenario() -> None:
        model = HangingModel({1, 2, 3})
        service = _service(model, unhealthy_after=2)
        try:
            async with service:
                for seq in (1, 2):
                    outcome = _dropped(await asyncio.wait_for(submit(service, "cam", seq), 5), "stuck")
                assert "unhealthy" in outcome.detail
                refused = _dropped(await submit(service, "cam", 4), "error")
                assert "unhealthy" in refused.detail
                assert service.snapshot()["watchdog"]["unhealthy"] == ["m"]
                await until(lambda: not service.watchdog.blocked("m", time.monotonic()), timeout=5)
                model.hanging.clear()
                stuck_at_stop = submit(service, "cam", 3)  # the backoff is over: the model is tried again
                await until(model.hanging.is_set, timeout=5)
                started = time.monotonic()  # leaving the block stops the service
            assert time.monotonic() - started < 2.0
            _dropped(await stuck_at_stop, "shutdown")
            accounted(service)
        finally:
            model.release.set()

    run(scenario)


def test_a_lane_slow_to_make_its_runner_is_not_stuck() -> None:
    async def scenario() -> None:
        model = HangingModel(set(), make_s=2 * FLOOR_MS / 1e3)  # past the limit, within the runner's grace
        service = _service(model)
        async with service:
            outcome = await asyncio.wait_for(submit(service, "cam", 1), 5)
            assert isinstance(outcome, Completed), outcome
            assert service.snapshot()["watchdog"]["lanes_replaced"] == 0

    run(scenario)
