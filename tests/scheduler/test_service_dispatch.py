"""The accelerator service deciding what runs where: real lane threads, real (sleeping) runners.

Assertions are about order and accounting, not durations: a gate (a threading.Event the runner waits on)
holds a lane busy for as long as a test needs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import pytest

from edge_runtime.jobs import Completed, Outcome
from edge_runtime.scheduler import AcceleratorService
from edge_runtime.sections import AcceleratorConfig, Priority
from tests.scheduler.jobs import SleepModel, make_job
from tests.scheduler.service_support import accounted, gated, run, submit, until

pytestmark = pytest.mark.timeout(30)


def lanes_of(outcomes: Sequence[Outcome]) -> list[str]:
    """The lane each completed outcome ran on, in order."""
    return [o.payload["thread"] for o in outcomes if isinstance(o, Completed)]


def test_jobs_complete_with_the_model_ref_and_timings() -> None:
    async def main() -> None:
        model = SleepModel(seconds=0.002)
        service = AcceleratorService(AcceleratorConfig(), {"m": model})
        stats = service.register_stream("cam", "normal", 1000)
        async with service:
            outcomes = [await submit(service, "cam", seq) for seq in range(5)]
        for seq, outcome in enumerate(outcomes):
            assert isinstance(outcome, Completed)
            assert (outcome.kind, outcome.payload["seq"], outcome.payload["thread"]) == ("test", seq, "lane-0")
            assert outcome.model == model.ref
            assert outcome.service >= 0.002
            assert outcome.queue_wait >= 0
        figures = service.snapshot()["streams"]["cam"]
        assert (figures["submitted"], figures["completed"], figures["drops"]) == (5, 5, {})
        assert stats.service.count == 5
        assert stats.queue_wait.count == 5
        assert len(model.runners) == 1, "a lane makes one runner per model and keeps it"

    run(main)


@pytest.mark.parametrize("policy", ["priority", "fifo"])
def test_dispatch_order_when_a_lane_frees(policy: str) -> None:
    async def main() -> None:
        model = SleepModel()
        gate = gated(model)
        service = AcceleratorService(AcceleratorConfig(policy=policy), {"m": model})
        streams: list[tuple[str, Priority]] = [
            ("first", "normal"),
            ("low", "low"),
            ("high", "high"),
            ("crit", "critical"),
        ]
        for name, priority in streams:
            service.register_stream(name, priority)
        async with service:
            first = submit(service, "first", 0)
            await until(model.started.is_set)
            rest = [submit(service, name, 0) for name in ("low", "high", "crit")]
            gate.set()
            await asyncio.gather(first, *rest)
        expected = ["first", "low", "high", "crit"] if policy == "fifo" else ["first", "crit", "high", "low"]
        assert [stream for stream, _ in model.runs] == expected

    run(main)


def test_a_high_stream_waits_for_at_most_the_job_in_hand_while_a_low_stream_floods() -> None:
    async def main() -> None:
        model = SleepModel(seconds=0.003)
        service = AcceleratorService(AcceleratorConfig(), {"m": model})
        service.register_stream("low", "low", None)
        high_stats = service.register_stream("high", "high", None)
        runs_at_submit: dict[int, int] = {}
        futures = []
        async with service:
            for i in range(120):
                futures += [submit(service, "low", 3 * i + k) for k in range(3)]
                if i % 8 == 0:
                    with model.lock:
                        runs_at_submit[i] = len(model.runs)
                    futures.append(submit(service, "high", i))
                await asyncio.sleep(0.001)
            await asyncio.gather(*futures)
        runs = model.runs
        for seq, before in runs_at_submit.items():
            if ("high", seq) in runs:  # not superseded by the next high frame
                lows_ahead = sum(1 for stream, _ in runs[before : runs.index(("high", seq))] if stream == "low")
                assert lows_ahead <= 1, f"high frame {seq} waited for {lows_ahead} low frames"
        figures = service.snapshot()["streams"]
        assert figures["low"]["drops"].get("superseded", 0) > 0
        assert figures["high"]["completed"] > 0
        accounted(service)
        print(f"\nhigh queue wait {high_stats.queue_wait.quantiles()}; low {figures['low']['queue_wait']}")

    run(main)


def test_a_reserved_lane_only_takes_its_class() -> None:
    async def main() -> None:
        slow, fast = SleepModel("slow"), SleepModel("fast")
        gate = gated(slow)
        config = AcceleratorConfig(lanes=2, reserve={"critical": 1})
        service = AcceleratorService(config, {"slow": slow, "fast": fast})
        service.register_stream("a", "normal")
        service.register_stream("b", "normal")
        service.register_stream("alarm", "critical")
        async with service:
            a, b = submit(service, "a", 0, "slow"), submit(service, "b", 0, "slow")
            await until(slow.started.is_set)
            snapshot = service.snapshot()
            assert [lane["busy"] for lane in snapshot["lanes"]] == [False, True]
            assert snapshot["lanes"][0]["takes"] == "critical and above"
            assert snapshot["streams"]["b"]["queued"] == 1, "the critical lane took a normal job"
            alarm = await submit(service, "alarm", 0, "fast")
            assert isinstance(alarm, Completed)
            assert alarm.payload["thread"] == "lane-0"
            assert not a.done()
            assert not b.done()
            gate.set()
            outcomes = await asyncio.gather(a, b)
        assert lanes_of(outcomes) == ["lane-1", "lane-1"]

    run(main)


def test_a_critical_job_takes_the_reserved_lane_before_a_general_one() -> None:
    async def main() -> None:
        slow, fast = SleepModel("slow"), SleepModel("fast")
        gate = gated(slow)
        config = AcceleratorConfig(lanes=2, reserve={"critical": 1}, reserved_alone=False)
        service = AcceleratorService(config, {"slow": slow, "fast": fast})
        service.register_stream("alarm", "critical")
        service.register_stream("cam", "normal")
        async with service:
            held = submit(service, "alarm", 0, "slow")
            await until(slow.started.is_set)
            await submit(service, "cam", 0, "fast")  # the general lane finishes first and is free first
            gate.set()
            await held
            outcome = await submit(service, "alarm", 1, "fast")
        assert isinstance(outcome, Completed)
        assert outcome.payload["thread"] == "lane-0"

    run(main)


@pytest.mark.parametrize("alone", [True, False])
def test_while_a_reserved_lane_runs_the_other_lanes_start_no_lower_class_job(alone: bool) -> None:
    """`reserved_alone` (the default): a critical frame on its lane runs with no normal invoke beside it; the
    general lane still takes critical work meanwhile, and the normal job starts once the reserved lane is idle."""

    async def main() -> None:
        slow, fast = SleepModel("slow"), SleepModel("fast")
        gate = gated(slow)
        config = AcceleratorConfig(lanes=2, reserve={"critical": 1}, reserved_alone=alone)
        service = AcceleratorService(config, {"slow": slow, "fast": fast})
        service.register_stream("alarm", "critical")
        service.register_stream("other_alarm", "critical")
        service.register_stream("cam", "normal")
        async with service:
            held = submit(service, "alarm", 0, "slow")
            await until(slow.started.is_set)
            cam = submit(service, "cam", 0, "fast")
            if alone:
                second = await submit(service, "other_alarm", 0, "fast")  # a critical job still runs beside it
                assert isinstance(second, Completed)
                assert second.payload["thread"] == "lane-1"
                await asyncio.sleep(0.1)
                assert not cam.done(), "a normal job started while the reserved lane ran"
                assert service.snapshot()["streams"]["cam"]["queued"] == 1
                accounted(service)
            else:
                await cam  # beside the critical job
            assert not held.done()
            gate.set()
            outcomes = await asyncio.gather(held, cam)
        assert lanes_of(outcomes) == ["lane-0", "lane-1"]

    run(main)


def test_a_reserved_job_taken_back_to_back_holds_no_lane() -> None:
    """A reserved class with a backlog (its lane takes its next job on finishing one) does not keep the lower
    classes from the other lanes: only a job an idle reserved lane took holds them."""

    async def main() -> None:
        first, second, cam_model = SleepModel("first"), SleepModel("second"), SleepModel("cam")
        gates = [gated(first), gated(second), gated(cam_model)]
        config = AcceleratorConfig(lanes=2, reserve={"critical": 1})
        service = AcceleratorService(config, {"first": first, "second": second, "cam": cam_model, "fast": SleepModel()})
        service.register_stream("alarm", "critical")
        service.register_stream("cam", "normal")
        async with service:
            cam0 = submit(service, "cam", 0, "cam")  # the general lane is busy before the alarm comes
            await until(cam_model.started.is_set)
            alarm0 = submit(service, "alarm", 0, "first")  # the idle reserved lane takes it: it holds
            await until(first.started.is_set)
            alarm1 = submit(service, "alarm", 1, "second")  # queued: both lanes busy
            cam1 = submit(service, "cam", 1, "fast")
            gates[0].set()  # the reserved lane finishes alarm 0 and takes alarm 1 at once
            await until(second.started.is_set)
            gates[2].set()  # the general lane finishes cam 0; alarm 1 holds nobody, so cam 1 runs now
            assert isinstance(await cam1, Completed)
            assert not alarm1.done()
            gates[1].set()
            outcomes = await asyncio.gather(alarm0, alarm1, cam0)
        assert lanes_of(outcomes) == ["lane-0", "lane-0", "lane-1"]

    run(main)


def test_too_many_reserved_lanes_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"reserve: 2 of 2 lanes reserved"):
        AcceleratorService(AcceleratorConfig(lanes=2, reserve={"critical": 1, "high": 1}))


def test_unregistered_streams_and_bad_rules_are_refused() -> None:
    async def main() -> None:
        service = AcceleratorService(AcceleratorConfig())
        with pytest.raises(ValueError, match="stream 'x' is not registered"):
            service.submit(make_job("x", 0, 0.0))
        with pytest.raises(KeyError, match="no model 'm'"):
            service.model("m")

    run(main)
    service = AcceleratorService(AcceleratorConfig())
    bad: list[tuple[Priority, dict[str, Any], str]] = [
        ("urgent", {}, "priority must be one of critical, high, normal, low"),  # type: ignore[list-item]
        ("low", {"deadline_ms": 0}, "deadline_ms must be > 0"),
        ("low", {"min_share": 1.5}, r"min_share must be in \(0, 1\]"),
        ("low", {"max_wait_ms": -1}, "max_wait_ms must be > 0"),
    ]
    for priority, options, message in bad:
        with pytest.raises(ValueError, match=f"stream 's': {message}"):
            service.register_stream("s", priority, **options)
    service.register_stream("a", "low", min_share=0.6)
    with pytest.raises(ValueError, match=r"min_share of all streams adds up to 1\.2"):
        service.register_stream("b", "low", min_share=0.6)
