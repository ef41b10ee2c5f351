"""One stream: source -> (accelerator) -> stages -> sinks, as three named tasks joined by bounded queues.

* `source`: the source's own task; its capture thread fills the stream's channel (the overflow policy is the
  source's: latest-wins for cameras, bounded for sensors).
* `dispatch`: takes items from the channel and submits frames to the accelerator service without waiting, so
  the scheduler sees the stream's newest frame (and can supersede or drop a stale one).
* `collect`: awaits outcomes in capture order, runs the post stages, hands envelopes to the sinks.
`dispatch` and `collect` are joined by an `asyncio.Queue` of `inflight` entries: when it is full, dispatch
waits, and the newest frame waits in the channel (where a newer one replaces it and is counted).

A stream that infers with a service that takes jobs from any thread (`InferStep.direct`), and has no gates or
cascades, takes the direct path instead (`_direct.py`): the capture thread submits its frames itself and the
loop delivers their results as their outcomes come in; `dispatch` has nothing to do and `collect` waits for the
end. The bound, the overflow policy and the order of results are the same.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cloud_sync.envelope import Envelope
from edge_runtime.cascade import CascadeStep, run_cascades
from edge_runtime.channel import Channel, ChannelClosed
from edge_runtime.drops import SHUTDOWN, DropCounter
from edge_runtime.engine._direct import Admit, DirectService, Inflight
from edge_runtime.frames import Frame, Item, Reading
from edge_runtime.gates import Gate, check_gates
from edge_runtime.jobs import STREAM_INFLIGHT, Completed, Job, Outcome
from edge_runtime.results import Result
from edge_runtime.sinks import Sink
from edge_runtime.stages._base import Stage
from edge_runtime.stats import StreamStats

log = logging.getLogger(__name__)

Submit = Callable[[Job], "asyncio.Future[Outcome]"]
RECENT_RESULTS = 64


@dataclass(frozen=True)
class InferStep:
    """The `infer` stage: which model, and where its jobs go (the stream is registered with the service)."""

    model: str
    submit: Submit
    direct: DirectService | None = None  # the same service, for the capture thread (`submit_from_thread`)
    admit: Admit | None = None  # on the direct path: what `submit`'s wrappers do before it (thermal, frame rings)

    def job(self, frame: Frame) -> Job:
        return Job(self.model, frame)


class StreamRunner:
    def __init__(
        self,
        name: str,
        channel: Channel[Item],
        *,
        stats: StreamStats,
        infer: InferStep | None,
        stages: list[Stage],
        sinks: list[Sink],
        envelope: Callable[[Result], Envelope],
        inflight: int = STREAM_INFLIGHT,
        gates: Sequence[Gate] = (),
        cascades: Sequence[CascadeStep] = (),
    ) -> None:
        self.name = name
        self.channel = channel
        self.stats = stats
        self.infer = infer
        self.stages = stages
        self.sinks = sinks
        self._envelope = envelope
        self.gates = list(gates)
        self.cascades = list(cascades)
        # Results that completed inference but were lost after it (a stage or a sink failed), by stage/sink name.
        self.sink_drops = DropCounter()
        stats.downstream["sinks"] = self.sink_drops
        self._inflight: asyncio.Queue[tuple[Item, asyncio.Future[Outcome] | None] | None] = asyncio.Queue(inflight)
        # What the console shows: the newest frame with its first result, and the newest results (bounded).
        self.latest: tuple[Frame, Result] | None = None
        self.recent: deque[Result] = deque(maxlen=RECENT_RESULTS)
        self._direct: Inflight | None = None
        if infer is not None and infer.direct is not None and not gates and not cascades:
            # at most the jobs the loop's path has: its queue, the one collect awaits, the one dispatch holds
            bound = inflight + 2
            self._direct = Inflight(
                channel, infer.model, infer.direct, self._deliver, drops=stats.drops, bound=bound, admit=infer.admit
            )

    @property
    def direct(self) -> bool:
        """True when the capture thread submits this stream's frames itself (the direct path)."""
        return self._direct is not None

    def in_flight(self) -> int:
        """Frames submitted (or taken for a gate) and not yet delivered, the direct path's or the loop's."""
        return len(self._direct) if self._direct is not None else self._inflight.qsize()

    async def dispatch(self) -> None:
        """Submit the channel's frames; gates that listen (a sensor's subscription) run as long as this does."""
        listeners = [asyncio.create_task(g.run(), name=f"gate:{self.name}:{g.name}") for g in self.gates]
        try:
            await self._dispatch_items()
        finally:
            for task in listeners:
                task.cancel()
            await asyncio.gather(*listeners, return_exceptions=True)

    async def _dispatch_items(self) -> None:
        if self._direct is not None:
            return  # the capture thread submits
        try:
            while True:
                try:
                    item = await self.channel.get()
                except ChannelClosed:
                    break
                if self.gates and isinstance(item, Frame) and not await self._gates_open(item):
                    continue
                future = self.infer.submit(self.infer.job(item)) if self.infer and isinstance(item, Frame) else None
                await self._inflight.put((item, future))
        except asyncio.CancelledError:
            self.stats.drops.add(SHUTDOWN, len(self.channel.take_all()))  # offered, never dispatched
            with contextlib.suppress(asyncio.QueueFull):  # collect may be gone too: never wait here
                self._inflight.put_nowait(None)
            raise
        await self._inflight.put(None)

    async def collect(self) -> None:
        if self._direct is not None:
            await self._direct.run()
            return
        try:
            while (entry := await self._inflight.get()) is not None:
                item, future = entry
                result = self._first_result(item, await future if future else None)
                if result is not None and self.cascades and isinstance(item, Frame):
                    await self._cascade(item, result)
                if result is not None:
                    self._finish(item, result)
        except asyncio.CancelledError:
            self._drop_leftovers()
            raise

    def _deliver(self, item: Item, outcome: Outcome | None) -> None:
        """The direct path's `collect` of one item (on the loop), its outcome in."""
        result = self._first_result(item, outcome)
        if result is not None:
            self._finish(item, result)

    def _finish(self, item: Item, result: Result) -> None:
        self.stats.complete(time.monotonic() - result.t_capture)
        self.recent.append(result)
        if isinstance(item, Frame):
            self.latest = (item, result)
        self.emit(result, 0)

    async def _gates_open(self, frame: Frame) -> bool:
        """Ask the gates in a worker thread; a frame they keep closed ends here as `gated`."""
        try:
            opened = await asyncio.to_thread(check_gates, self.gates, frame, self.stats)
        except asyncio.CancelledError:
            self.stats.drops.add(SHUTDOWN)  # taken from the channel, never dispatched
            raise
        if not opened:
            self.stats.gate()
        return opened

    async def _cascade(self, frame: Frame, result: Result) -> None:
        try:
            await run_cascades(self.cascades, frame, result.payload)
        except asyncio.CancelledError:
            self.stats.drops.add(SHUTDOWN)  # inferred, but its cascade was cut short: never emitted
            raise

    def _drop_leftovers(self) -> None:
        """Cancelled before draining: what was still in flight ends as a `shutdown` drop, never unaccounted."""
        while True:
            try:
                entry = self._inflight.get_nowait()
            except asyncio.QueueEmpty:
                return
            if entry is None:
                continue
            future = entry[1]
            if future is None:
                self.stats.drops.add(SHUTDOWN)
            else:  # the service counts what it drops; a frame it completes now is lost here
                future.add_done_callback(self._completed_too_late)

    def _completed_too_late(self, future: asyncio.Future[Outcome]) -> None:
        if not future.cancelled() and isinstance(future.result(), Completed):
            self.stats.drops.add(SHUTDOWN)

    def emit(self, result: Result, first_stage: int) -> None:
        """Pass a result through the stages from `first_stage` on, then to every sink."""
        results = [result]
        if first_stage < len(self.stages):  # (a stream without stages skips this on every frame)
            for stage in self.stages[first_stage:]:
                results = [out for r in results for out in self._run_stage(stage, r)]
            self.recent.extend(r for r in results if r is not result)
        for r in results:
            envelope = self._envelope(r)
            for sink in self.sinks:
                self._send(sink, envelope)

    def _send(self, sink: Sink, envelope: Envelope) -> None:
        try:
            sink.send(envelope)
        except Exception as exc:  # one failing sink never stops the stream or the other sinks
            self.sink_drops.add(f"sink_error:{sink.name}")
            log.error("stream %r sink %r: %s: %s", self.name, sink.name, type(exc).__name__, exc)

    def tick(self, now: float) -> None:
        self.stats.rate.sample(self.stats.completed)
        for i, stage in enumerate(self.stages):
            for result in stage.tick(now):
                self.emit(result, i + 1)

    def flush(self) -> None:
        for i, stage in enumerate(self.stages):
            for result in stage.flush():
                self.emit(result, i + 1)

    def _first_result(self, item: Item, outcome: Outcome | None) -> Result | None:
        now = time.time()
        if isinstance(outcome, Completed):
            return Result(
                item.stream, item.seq, item.ts_capture, item.t_capture, now, outcome.kind, outcome.payload,
                model=outcome.model, source=item.source, frame=item.frame if isinstance(item, Frame) else None,
            )  # fmt: skip
        if outcome is not None:
            return None  # dropped: the accelerator service counted it with its reason
        if isinstance(item, Reading):
            payload = {"values": item.values}
            return Result(
                item.stream, item.seq, item.ts_capture, item.t_capture, now, "reading", payload, source=item.source
            )
        return Result(
            item.stream, item.seq, item.ts_capture, item.t_capture, now, "frame",
            {"shape": list(item.image.shape)}, source=item.source, frame=item.frame,
        )  # fmt: skip

    def _run_stage(self, stage: Stage, result: Result) -> list[Result]:
        try:
            return stage.process(result)
        except Exception as exc:  # one failing stage never stops the stream
            self.sink_drops.add(f"stage_error:{stage.name}")
            log.error("stream %r stage %r: %s: %s", self.name, stage.name, type(exc).__name__, exc)
            return []
