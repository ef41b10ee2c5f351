"""Anticipation: a free lane waits for a periodic higher-class frame that is due, instead of starting a lower-class
job that would be in its way; and only then."""

from __future__ import annotations

import asyncio
import time

import pytest

from edge_runtime.jobs import Runner
from edge_runtime.scheduler import AcceleratorService
from edge_runtime.scheduler._anticipate import MAX_IDLE, OVERLAP, Anticipation
from edge_runtime.sections import AcceleratorConfig
from tests.scheduler.jobs import SleepModel
from tests.scheduler.service_support import run, submit, until

HIGH, LOW = 1, 3  # ranks
P = 0.033  # high's period (s)
S = 0.0016  # low's service time (s)


def _steady(high_at: list[float] | None = None, service: float = S, reserved: int = -1) -> Anticipation:
    """High arrived at `high_at` (every P from 0 by default), low's jobs take `service`."""
    anticipation = Anticipation(reserved)
    for t in high_at if high_at is not None else [i * P for i in range(9)]:
        anticipation.arrived("high", HIGH, t)
    anticipation.served("low", LOW, service)
    return anticipation


DUE = 9 * P  # high's next frame after the default arrivals


def test_a_lane_free_just_before_the_due_frame_waits_for_it() -> None:
    kept, until_ = _steady().limit(LOW, DUE - 0.4 * S)
    assert kept == HIGH  # low may not start: it would run into high's frame by more than half of itself
    assert until_ == pytest.approx(DUE + S)  # given up on once it is late by a low job (here < a quarter period)


def test_a_job_that_ends_before_the_frame_or_runs_into_it_by_at_most_half_starts() -> None:
    assert _steady().limit(LOW, DUE - 2 * S) == (LOW, None)
    assert _steady().limit(LOW, DUE - (1 - OVERLAP) * S - 1e-6) == (LOW, None)


def test_a_late_frame_is_waited_for_one_lower_class_job_then_given_up_on() -> None:
    assert _steady().limit(LOW, DUE + 0.9 * S)[0] == HIGH
    assert _steady().limit(LOW, DUE + 1.1 * S) == (LOW, None)  # no longer than the job would have held it


def test_irregular_arrivals_are_not_anticipated() -> None:
    jittered = [0.0, 0.033, 0.050, 0.099, 0.132, 0.140, 0.198, 0.231, 0.264]  # a gate opening and closing
    assert _steady(jittered).limit(LOW, 0.264 + 0.033 - 0.4 * S) == (LOW, None)


def test_too_few_arrivals_are_not_anticipated() -> None:
    assert _steady([0.0, P, 2 * P]).limit(LOW, 3 * P - 0.4 * S) == (LOW, None)


def test_a_lower_class_job_long_against_the_period_is_not_waited_for() -> None:
    slow = (MAX_IDLE + 0.05) * P
    assert _steady(service=slow).limit(LOW, DUE - 0.1 * slow) == (LOW, None)


def test_a_class_with_a_reserved_lane_is_not_anticipated() -> None:
    assert _steady(reserved=HIGH).limit(LOW, DUE - 0.4 * S) == (LOW, None)


def test_a_lane_that_cannot_take_the_lower_class_is_not_held() -> None:
    assert _steady().limit(HIGH, DUE - 0.4 * S) == (HIGH, None)  # nothing below high for it to start anyway


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class _TimedModel(SleepModel):
    """Each run takes 2 ms on the test's clock (so the lanes measure that service time)."""

    def __init__(self, clock: _Clock) -> None:
        super().__init__()
        self.clock = clock

    def instantiate(self) -> Runner:
        runner = super().instantiate()
        invoke = runner.invoke

        def timed() -> None:
            invoke()
            self.clock.now += 0.002

        runner.invoke = timed  # type: ignore[method-assign]
        return runner


@pytest.mark.parametrize("anticipate", [True, False])
def test_the_service_keeps_its_lane_for_the_due_frame_and_lets_the_low_job_go_once_it_is_late(
    anticipate: bool,
) -> None:
    async def main() -> None:
        clock = _Clock()
        model = _TimedModel(clock)
        service = AcceleratorService(AcceleratorConfig(anticipate=anticipate), {"m": model}, clock=clock)
        service.register_stream("high", "high")
        service.register_stream("low", "low")
        async with service:
            await submit(service, "low", 0)  # low's jobs take 2 ms: 10% of high's 20 ms period
            for seq in range(9):  # high every 20 ms
                clock.now = seq * 0.02
                await submit(service, "high", seq)
            clock.now = 0.18 - 0.0005  # high's next frame is due in 0.5 ms: a low job would run into it by 1.5
            low = submit(service, "low", 1)
            await asyncio.sleep(0.05)
            if not anticipate:
                await low  # nothing keeps the lane: low runs at once
                assert model.runs[-1] == ("low", 1)
                return
            assert not low.done()  # the lane waits for high's frame
            high = submit(service, "high", 9)
            await asyncio.gather(high, low)
            assert model.runs[-2:] == [("high", 9), ("low", 1)]  # high first, then low
            clock.now = 0.1995 - 0.0005  # due again in 0.5 ms, and this time high's frame never comes
            late_low = submit(service, "low", 2)
            await asyncio.sleep(0.05)
            assert not late_low.done()
            clock.now = 0.1995 + 0.002 + 0.0001  # later than a low job would have held it: given up on
            started = time.monotonic()
            await until(late_low.done, 2)
            assert time.monotonic() - started < 0.5  # the waiting lane looked again by itself (no wake-up)
            assert model.runs[-1] == ("low", 2)

    run(main)
