"""Properties of the direct path, driven by hypothesis: any interleaving of offered frames, jobs starting on a
lane and outcomes (in any order, completed or dropped), ended by a drain or a forced stop, delivers in capture
order, never has more than the bound in flight, and accounts every offered frame exactly once, a frame replaced
in the queue by a newer one included.

The service is played by the test on the loop, as the real one settles outcomes: it keeps the tokens it was
handed, queued until the example starts them (only a queued one can be replaced), and resolves them in the order
the example says, counting the drops it makes as the service would.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_sync.envelope import Envelope
from edge_runtime.channel import Channel
from edge_runtime.drops import ERROR, SUPERSEDED, THERMAL
from edge_runtime.engine import InferStep, StreamRunner
from edge_runtime.frames import Frame, Item
from edge_runtime.jobs import STREAM_INFLIGHT, Completed, Dropped, Job, Outcome
from edge_runtime.results import ModelRef, Result
from edge_runtime.scheduler._service import Settle
from edge_runtime.sinks import MemorySink
from edge_runtime.stats import StreamStats
from tests.scheduler.jobs import PIXEL

REF = ModelRef("m", 1, "0" * 64)
put = st.just(("put", 0))
settle = st.tuples(st.sampled_from(["complete", "drop", "start"]), st.integers(0, 9))
operations = st.lists(st.one_of(put, settle), max_size=60)


def seqs(sink: MemorySink) -> list[int]:
    """The `seq` of every envelope the sink got, in arrival order."""
    return [envelope["seq"] for envelope in sink.envelopes]


class PlayedService:
    """Keeps the tokens handed to it; settles them when told, on the loop, counting its drops."""

    def __init__(self, stats: StreamStats) -> None:
        self.stats = stats
        self.tokens: list[Settle] = []
        self.queued: list[Settle] = []  # handed and not started: a newer frame may take their place
        self.frames: dict[int, int] = {}  # token -> the seq of the frame it holds
        self.replaced = 0
        self.ran: set[int] = set()  # the seqs of the frames it completed

    def submit_from_thread(self, job: Job, token: Settle) -> None:
        self.tokens.append(token)
        self.queued.append(token)
        self.frames[id(token)] = job.frame.seq

    def replace_from_thread(self, job: Job, token: Settle, swap: Callable[[Any], None]) -> bool:
        if not any(t is token for t in self.queued):
            return False
        assert job.frame.seq > self.frames[id(token)]  # only ever by a newer frame
        swap(job.frame)
        self.frames[id(token)] = job.frame.seq
        self.replaced += 1
        return True

    def start(self, index: int) -> None:
        if self.queued:
            self.queued.pop(index % len(self.queued))

    def settle(self, kind: str, index: int) -> None:
        if kind == "start":
            self.start(index)
            return
        token = self.tokens.pop(index % len(self.tokens))
        self.queued = [t for t in self.queued if t is not token]
        if kind == "drop":
            self.stats.drops.add(ERROR)
            token.set_result(Dropped(ERROR, "played"))
        else:
            self.ran.add(self.frames[id(token)])
            token.set_result(Completed("test", {}, REF, 0.0, 0.0))


def _loop_submit(job: Job) -> asyncio.Future[Outcome]:
    raise AssertionError("the direct path never submits on the loop")


def _envelope(result: Result) -> Envelope:
    return result.envelope("dev", "boot")


class Shedding:
    """An admission hook (as thermal shedding is): sheds every `every`-th frame it is asked about, counting it;
    remembers what it was asked."""

    def __init__(self, stats: StreamStats, every: int) -> None:
        self.stats = stats
        self.every = every
        self.asked: list[int] = []

    def __call__(self, job: Job) -> bool:
        self.asked.append(job.frame.seq)
        if self.every and len(self.asked) % self.every == 0:
            self.stats.drops.add(THERMAL)
            return False
        return True


@settings(max_examples=200, deadline=None)
@given(ops=operations, forced_stop=st.booleans(), capacity=st.integers(1, 2), shed_every=st.integers(0, 3))
def test_any_interleaving_delivers_in_order_within_the_bound_and_accounts_every_frame(
    ops: list[tuple[str, int]], forced_stop: bool, capacity: int, shed_every: int
) -> None:
    asyncio.run(_play(ops, forced_stop, capacity, shed_every))


async def _play(ops: list[tuple[str, int]], forced_stop: bool, capacity: int, shed_every: int) -> None:
    stats = StreamStats("cam")
    channel: Channel[Item] = Channel(capacity, "drop_oldest", stats.drops, on_offer=stats.offer)
    service = PlayedService(stats)
    sink = MemorySink("seqs")
    shedding = Shedding(stats, shed_every)
    infer = InferStep("m", _loop_submit, service, shedding)
    runner = StreamRunner("cam", channel, stats=stats, infer=infer, stages=[], sinks=[sink], envelope=_envelope)
    collect = asyncio.create_task(runner.collect())
    await asyncio.sleep(0)  # the hand-off is in place
    seq = 0
    for kind, index in ops:
        if kind == "put":
            channel.put(Frame("cam", seq, time.time(), time.monotonic(), PIXEL))
            seq += 1
        elif service.tokens:
            service.settle(kind, index)
        assert runner.in_flight() <= STREAM_INFLIGHT + 2
    if forced_stop:
        collect.cancel()
        await asyncio.gather(collect, return_exceptions=True)
    else:
        channel.close()
    while service.tokens:  # the service settles everything it was handed, even after a forced stop
        service.settle("complete", 0)
    await asyncio.wait_for(asyncio.gather(collect, return_exceptions=True), 5)
    assert seqs(sink) == sorted(set(seqs(sink)))  # capture order, each once
    assert stats.offered == seq == stats.completed + stats.drops.total
    assert stats.completed == len(seqs(sink))
    assert stats.drops.snapshot().get(SUPERSEDED, 0) >= service.replaced
    assert len(shedding.asked) == len(set(shedding.asked))  # each frame asked once, even after waiting for room
    assert stats.drops.snapshot().get(THERMAL, 0) == (len(shedding.asked) // shed_every if shed_every else 0)
    assert set(seqs(sink)) <= service.ran  # each frame delivered with the outcome of its own run, replaced or not
    if not forced_stop:
        assert service.ran <= set(seqs(sink))
    assert len(channel) == 0


def test_a_frame_that_waits_in_the_channel_for_room_is_admitted_once() -> None:
    async def scenario() -> None:
        stats = StreamStats("cam")
        channel: Channel[Item] = Channel(1, "drop_oldest", stats.drops, on_offer=stats.offer)
        service = PlayedService(stats)
        shedding = Shedding(stats, 0)
        infer = InferStep("m", _loop_submit, service, shedding)
        runner = StreamRunner("cam", channel, stats=stats, infer=infer, stages=[], sinks=[MemorySink("s")],
                              envelope=_envelope)  # fmt: skip
        collect = asyncio.create_task(runner.collect())
        await asyncio.sleep(0)
        for seq in range(STREAM_INFLIGHT + 3):
            channel.put(Frame("cam", seq, time.time(), time.monotonic(), PIXEL))
            service.start(0)  # each starts at once: none can be replaced
        assert (runner.in_flight(), len(channel)) == (STREAM_INFLIGHT + 2, 1)  # the last waits for room
        service.settle("complete", 0)  # room: the waiting frame goes on
        assert (runner.in_flight(), len(channel)) == (STREAM_INFLIGHT + 2, 0)
        assert shedding.asked == list(range(STREAM_INFLIGHT + 3))  # the waiting frame was asked once
        channel.close()
        while service.tokens:
            service.settle("complete", 0)
        await asyncio.wait_for(collect, 5)

    asyncio.run(scenario())
