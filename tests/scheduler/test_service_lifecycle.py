"""The accelerator service over time: model swaps, failing runners, stale frames, and stopping.

Assertions are about order and accounting, not durations: a gate (a threading.Event the runner waits on)
holds a lane busy for as long as a test needs.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from typing import Any

import pytest

from edge_runtime.jobs import Completed, Dropped
from edge_runtime.scheduler import AcceleratorService
from edge_runtime.sections import AcceleratorConfig
from tests.scheduler.jobs import SleepModel
from tests.scheduler.service_support import accounted, gated, run, serve_until_cancelled, submit, until

pytestmark = pytest.mark.timeout(30)


def test_swapping_a_model_mid_stream_drops_nothing() -> None:
    async def main() -> None:
        old, new = SleepModel(version=1), SleepModel(version=2)
        gate = gated(old)
        service = AcceleratorService(AcceleratorConfig(), {"m": old})
        service.register_stream("cam", "normal")
        async with service:
            in_flight = submit(service, "cam", 1)
            await until(old.started.is_set)
            service.set_model("m", new)
            assert service.model("m") is new
            queued = submit(service, "cam", 2)
            gate.set()
            first, second = await asyncio.gather(in_flight, queued)
            later = await submit(service, "cam", 3)
            gc.collect()
            assert old.runners[0]() is None, "the lane kept the replaced model's runner"
            service.set_model("m", SleepModel(version=3))  # a lane that does not run `m` again drops it too
            await until(lambda: gc.collect() >= 0 and new.runners[0]() is None)
        assert isinstance(first, Completed)
        assert first.model == old.ref
        assert first.payload["version"] == 1
        assert isinstance(second, Completed)
        assert second.model == new.ref
        assert second.payload["version"] == 2
        assert isinstance(later, Completed)
        assert later.model == new.ref
        assert service.snapshot()["streams"]["cam"]["drops"] == {}
        assert len(new.runners) == 1

    run(main)


def test_a_failing_runner_drops_its_job_as_error_and_the_service_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> None:
        service = AcceleratorService(AcceleratorConfig(), {"m": SleepModel(fail_on=frozenset({2}))})
        service.register_stream("cam", "normal")
        with caplog.at_level(logging.ERROR, logger="edge_runtime.scheduler"):
            async with service:
                outcomes = [await submit(service, "cam", seq) for seq in (1, 2, 3)]
                missing = await submit(service, "cam", 4, model="nope")
        assert isinstance(outcomes[0], Completed)
        assert isinstance(outcomes[2], Completed)
        assert outcomes[1] == Dropped("error", "runner failed: RuntimeError: cannot run frame 2")
        assert isinstance(missing, Dropped)
        assert missing.reason == "error"
        assert "no model 'nope'" in missing.detail
        lines = [r.getMessage() for r in caplog.records]
        assert any("'cam'" in line and "'m'" in line and "cannot run frame 2" in line for line in lines), lines
        assert service.snapshot()["lanes"][0]["errors"] == 1
        assert service.snapshot()["streams"]["cam"]["drops"] == {"error": 2}

    run(main)


def test_a_model_that_cannot_instantiate_is_an_error_per_job() -> None:
    class Broken(SleepModel):
        def instantiate(self) -> Any:
            raise OSError("delegate not found")

    async def main() -> None:
        service = AcceleratorService(AcceleratorConfig(), {"m": Broken()})
        service.register_stream("cam", "normal")
        async with service:
            outcome = await submit(service, "cam", 1)
        assert outcome == Dropped("error", "runner failed: OSError: delegate not found")

    run(main)


def test_runner_failures_are_logged_once_per_interval(caplog: pytest.LogCaptureFixture) -> None:
    now = [100.0]

    async def main() -> None:
        service = AcceleratorService(
            AcceleratorConfig(), {"m": SleepModel(fail_on=frozenset(range(9)))}, lambda: now[0]
        )
        service.register_stream("cam", "normal")
        with caplog.at_level(logging.ERROR, logger="edge_runtime.scheduler"):
            async with service:
                for seq in range(3):
                    await submit(service, "cam", seq)
                now[0] += 11
                await submit(service, "cam", 3)
        assert service.snapshot()["streams"]["cam"]["drops"] == {"error": 4}

    run(main)
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2, lines
    assert lines[1].endswith("cannot run frame 3 (2 more since the last report)")


def test_a_frame_past_its_deadline_at_dispatch_never_runs() -> None:
    async def main() -> None:
        model = SleepModel()
        gate = gated(model)
        service = AcceleratorService(AcceleratorConfig(), {"m": model})
        service.register_stream("slow", "normal")
        service.register_stream("cam", "high", deadline_ms=50)
        async with service:
            blocker = submit(service, "slow", 0)
            await until(model.started.is_set)
            late = submit(service, "cam", 1)
            await asyncio.sleep(0.2)
            assert not late.done(), "staleness is judged at dispatch, not before"
            gate.set()
            outcome, _ = await asyncio.gather(late, blocker)
        assert isinstance(outcome, Dropped)
        assert outcome.reason == "stale"
        assert ("cam", 1) not in model.runs

    run(main)


def test_stop_drops_the_queue_lets_the_lane_finish_and_reraises() -> None:
    async def main() -> None:
        model = SleepModel()
        gate = gated(model)
        service = AcceleratorService(AcceleratorConfig(), {"m": model})
        for stream in ("a", "b", "c"):
            service.register_stream(stream, "normal")
        before = set(threading.enumerate())
        task = asyncio.create_task(serve_until_cancelled(service), name="accelerator")
        running = submit(service, "a", 0)
        await until(model.started.is_set)
        queued = [submit(service, "b", 0), submit(service, "c", 0)]
        task.cancel()
        await asyncio.sleep(0.05)
        assert [f.result() for f in queued] == [Dropped("shutdown", "queued at stop")] * 2
        assert not running.done(), "the job on the lane is let finish"
        gate.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert isinstance(running.result(), Completed)
        after = await submit(service, "a", 1)
        assert isinstance(after, Dropped)
        assert after.reason == "shutdown"
        accounted(service)
        assert not [t for t in threading.enumerate() if t not in before and t.name == "lane-0"], "lane not joined"

    run(main)


def test_stop_gives_up_on_a_stuck_lane_after_the_timeout() -> None:
    async def main() -> None:
        model = SleepModel()
        gate = gated(model)
        service = AcceleratorService(AcceleratorConfig(), {"m": model}, stop_timeout_s=0.1)
        service.register_stream("a", "normal")
        try:
            async with service:
                stuck = submit(service, "a", 0)
                await until(model.started.is_set)
            assert stuck.result() == Dropped("shutdown", "still running at stop")
            accounted(service)
        finally:
            gate.set()  # let the abandoned thread end

    run(main)


def test_a_cancelled_future_does_not_disturb_the_service() -> None:
    async def main() -> None:
        service = AcceleratorService(AcceleratorConfig(), {"m": SleepModel(seconds=0.01)})
        service.register_stream("a", "normal")
        service.register_stream("b", "normal")
        async with service:
            submit(service, "a", 0).cancel()
            outcome = await submit(service, "b", 0)
        assert isinstance(outcome, Completed)
        assert service.snapshot()["streams"]["a"]["completed"] == 1

    run(main)


@pytest.mark.parametrize("policy", ["priority", "fifo"])
def test_a_removed_stream_is_forgotten_once_nothing_of_it_is_in_flight(policy: str) -> None:
    async def main() -> None:
        model = SleepModel()
        gate = gated(model)
        service = AcceleratorService(AcceleratorConfig(policy=policy), {"m": model})
        service.register_stream("kept", "normal")
        service.register_stream("gone", "low", min_share=0.6)
        async with service:
            running = submit(service, "gone", 1)
            await until(model.started.is_set)
            queued = submit(service, "gone", 2)
            assert service.remove_streams({"kept"}) == []  # a job running, one queued: kept for now
            assert set(service.snapshot()["streams"]) == {"kept", "gone"}
            gate.set()
            await asyncio.gather(running, queued)
            accounted(service)
            assert service.remove_streams({"kept"}) == ["gone"]
            assert set(service.snapshot()["streams"]) == {"kept"}
            with pytest.raises(ValueError, match="'gone' is not registered"):
                submit(service, "gone", 3)
            service.register_stream("new", "low", min_share=0.6)  # gone's share no longer counts
            assert isinstance(await submit(service, "new", 1), Completed)
            assert isinstance(await submit(service, "kept", 1), Completed)
            accounted(service)

    run(main)
