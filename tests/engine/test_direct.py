"""The direct path: a capture thread submits its frames to the accelerator service itself (no loop hop).

Real lanes (threads) run a sleeping model; a real thread plays the camera, faster than the model. What must hold
as on the loop's path: results in capture order, the per-stream bound, every frame accounted (completed, or
dropped with its reason), outcomes set on the loop only, a forced stop that leaves nothing unaccounted.
"""

from __future__ import annotations

import asyncio
import threading
import time

from cloud_sync.envelope import Envelope
from edge_runtime.channel import Channel
from edge_runtime.drops import SHUTDOWN, SUPERSEDED, DropCounter
from edge_runtime.engine import InferStep, StreamRunner
from edge_runtime.frames import Frame, Item
from edge_runtime.jobs import STREAM_INFLIGHT, Dropped, Outcome
from edge_runtime.results import Result
from edge_runtime.scheduler import AcceleratorService
from edge_runtime.sections import AcceleratorConfig
from edge_runtime.sinks import MemorySink
from edge_runtime.stats import StreamStats
from tests.scheduler.jobs import PIXEL, SleepModel, make_job
from tests.scheduler.service_support import accounted, gated, run, until

BOUND = STREAM_INFLIGHT + 2  # what the loop's path allows a stream: submitted and not yet delivered


def seqs(sink: MemorySink) -> list[int]:
    """The `seq` of every envelope the sink got, in arrival order."""
    return [envelope["seq"] for envelope in sink.envelopes]


def _stream(service: AcceleratorService, capacity: int = 1) -> tuple[StreamRunner, MemorySink]:
    stats = service.register_stream("cam", "normal", stats=StreamStats("cam"))
    channel: Channel[Item] = Channel(capacity, "drop_oldest", stats.drops, on_offer=stats.offer)
    sink = MemorySink("seqs")
    infer = InferStep("m", service.submit, service)
    runner = StreamRunner("cam", channel, stats=stats, infer=infer, stages=[], sinks=[sink], envelope=_envelope)
    return runner, sink


def _envelope(result: Result) -> Envelope:
    return result.envelope("dev", "boot")


def _camera(runner: StreamRunner, frames: int, every_s: float, peak: list[int]) -> threading.Thread:
    """A capture thread offering `frames` frames, one every `every_s`; `peak` gets the most frames in flight."""

    def capture() -> None:
        for seq in range(frames):
            runner.channel.put(Frame("cam", seq, time.time(), time.monotonic(), PIXEL))
            peak[0] = max(peak[0], runner.in_flight())
            time.sleep(every_s)

    thread = threading.Thread(target=capture, name="capture:cam")
    thread.start()
    return thread


def test_a_camera_faster_than_the_model_gets_its_results_in_order_and_every_frame_accounted() -> None:
    async def scenario() -> None:
        service = AcceleratorService(AcceleratorConfig(lanes=2), {"m": SleepModel(seconds=0.003)})
        runner, sink = _stream(service)
        peak = [0]
        async with service, asyncio.timeout(30):
            tasks = [asyncio.create_task(runner.dispatch()), asyncio.create_task(runner.collect())]
            camera = _camera(runner, 400, 0.0005, peak)
            while camera.is_alive():  # the books add up at every instant, frames replaced in the queue included
                accounted(service)
                await asyncio.sleep(0.002)
            runner.channel.close()
            await asyncio.gather(*tasks)
            accounted(service)
            books = service.snapshot()["streams"]["cam"]
        stats = runner.stats
        assert seqs(sink) == sorted(set(seqs(sink)))  # in capture order, each once
        assert stats.offered == 400 == stats.completed + stats.drops.total
        assert stats.completed == len(seqs(sink)) > 20
        assert stats.drops.snapshot().keys() == {SUPERSEDED}  # the newest frame wins, in the channel or the queue
        assert books["submitted"] == books["completed"] + sum(books["drops"].values()) >= stats.completed
        assert books["drops"][SUPERSEDED] > 0  # frames that took a queued frame's place in the service
        assert books["queued"] == books["running"] == 0
        assert 1 < peak[0] <= BOUND

    run(scenario)


def test_frames_go_straight_to_a_waiting_lane_without_the_loop() -> None:
    async def scenario() -> None:
        model = SleepModel()
        service = AcceleratorService(AcceleratorConfig(), {"m": model})
        runner, sink = _stream(service)
        async with service:
            collect = asyncio.create_task(runner.collect())
            await asyncio.sleep(0)  # the hand-off is in place
            runner.channel.put(Frame("cam", 7, time.time(), time.monotonic(), PIXEL))
            assert model.started.wait(5)  # ran while this (the loop's) thread was blocked right here
            await until(lambda: seqs(sink) == [7])
            runner.channel.close()
            await collect

    run(scenario)


def test_a_forced_stop_accounts_what_is_in_flight_and_queued_as_shutdown() -> None:
    async def scenario() -> None:
        model = SleepModel()
        gate = gated(model)
        service = AcceleratorService(AcceleratorConfig(), {"m": model}, stop_timeout_s=2.0)
        runner, sink = _stream(service)
        async with service:
            collect = asyncio.create_task(runner.collect())
            await asyncio.sleep(0)
            for seq in range(BOUND + 3):  # the lane holds the first; the rest wait in the queue and the channel
                runner.channel.put(Frame("cam", seq, time.time(), time.monotonic(), PIXEL))
            await until(model.started.is_set)
            collect.cancel()  # the drain timeout
            await asyncio.gather(collect, return_exceptions=True)
            assert runner.channel.put(Frame("cam", 99, time.time(), time.monotonic(), PIXEL))  # queued, not taken
            gate.set()  # the job on the lane completes after the stop: lost, counted
            await until(lambda: runner.stats.drops.total + len(runner.channel) == runner.stats.offered)
        stats = runner.stats
        assert (seqs(sink), stats.completed) == ([], 0)
        assert stats.drops.snapshot()[SHUTDOWN] >= 1
        assert stats.offered == BOUND + 4 == stats.drops.total + len(runner.channel)

    run(scenario)


def test_a_job_submitted_from_a_thread_after_the_stop_is_dropped_on_the_loop() -> None:
    class Token:
        def __init__(self) -> None:
            self.outcome: Outcome | None = None
            self.thread = ""

        def done(self) -> bool:
            return self.outcome is not None

        def set_result(self, outcome: Outcome, /) -> None:
            self.outcome, self.thread = outcome, threading.current_thread().name

    async def scenario() -> None:
        service = AcceleratorService(AcceleratorConfig(), {"m": SleepModel()})
        service.register_stream("cam", "normal")
        async with service:
            pass
        token = Token()
        job = make_job("cam", 1, time.monotonic())
        await asyncio.to_thread(service.submit_from_thread, job, token)
        await until(token.done)
        assert token.outcome == Dropped(SHUTDOWN, "the accelerator service has stopped")
        assert token.thread == threading.current_thread().name  # the loop's
        accounted(service)
        assert service.snapshot()["streams"]["cam"]["submitted"] == 1

    run(scenario)


def test_the_channel_hands_items_off_while_nothing_is_queued_and_queues_the_rest_under_its_policy() -> None:
    taken: list[int] = []
    room = [2]

    def take(item: int) -> bool:
        if len(taken) >= room[0]:
            return False
        taken.append(item)
        return True

    drops = DropCounter()
    held = [True]
    channel: Channel[int] = Channel(1, "drop_oldest", drops, admit=lambda: held[0])
    channel.hand_off(take)
    assert all(channel.put(i) for i in range(5))
    left = channel.take_all()
    assert (taken, left, drops.snapshot()) == ([0, 1], [4], {SUPERSEDED: 2})
    channel.put(5)
    room[0] = 3
    channel.put(6)  # something is queued: it waits behind it, the newest wins
    assert (taken, len(channel)) == ([0, 1], 1)
    channel.pump()
    assert (taken, len(channel)) == ([0, 1, 6], 0)
    held[0] = False  # detection off: not offered at all
    assert not channel.put(7)
    assert (taken, len(channel)) == ([0, 1, 6], 0)
    channel.hand_off(None)
    held[0] = True
    channel.put(8)
    assert channel.take_all() == [8]
