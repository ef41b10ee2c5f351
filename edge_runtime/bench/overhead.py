"""Overhead: a bare `invoke()` loop against the runtime's whole path for the same model.

The runtime path is the real one: a capture thread puts a frame into the stream's channel, which hands it to the
accelerator service in that thread (the stream's direct path), a lane preprocesses, invokes and decodes it, and
on the loop its outcome becomes a result envelope handed to a sink. `one in flight`: the capture thread waits for
each result before it puts the next frame; the figure is the time from the put to the sink's `send` (two thread
wake-ups among it: capture -> lane, lane -> loop), not counting the bench's own wake-up of the waiting capture
thread, which no real source has. `saturated`: whenever a result arrives, the capture thread offers a frame for
each result since it last did and one more (it never polls), so a frame always waits for the lane; the figure
is the throughput the path sustains, and 1/fps - 1/raw fps is what each frame costs the lane.

Besides the bare `invoke()` loop, a bare `Runner.run` loop (preprocess + invoke + decode, no scheduler) is
measured, so the report can split the overhead into the model's own pre/post-processing and the path's. And a
floor for the path: `bare hops`, the same two wake-ups with no runtime between them (the bench thread hands the
frame to a waiting thread through a condition, that thread runs it and wakes the loop the way the lanes do, and
the time is taken on the loop), what any design that keeps `invoke()` off the capture thread and the loop pays.
The four take turns in rounds in one process, so a change of load on the machine touches all of them alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import cProfile
import io
import pstats
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from cloud_sync.envelope import Envelope
from edge_runtime._compat import TaskGroup
from edge_runtime.bench._setup import ROOT, BenchModel, frame
from edge_runtime.channel import Channel
from edge_runtime.drops import DropCounter
from edge_runtime.engine import InferStep, StreamRunner
from edge_runtime.frames import Frame, Item
from edge_runtime.inference import LiteInterpreter, load_model
from edge_runtime.results import Result
from edge_runtime.scheduler import AcceleratorService
from edge_runtime.scheduler._wake import LoopWaker
from edge_runtime.sinks import Sink
from edge_runtime.stats import StreamStats

WARM_UP = 20
PROFILE_ENTRIES = 15
ROUNDS = 25  # the loops take turns, so a change of load on the machine touches all of them alike


class _SignalSink(Sink):
    def __init__(self) -> None:
        super().__init__("bench")
        self.count = 0
        self.arrived = threading.Event()
        self.sent_at = 0.0  # perf_counter() of the last `send`

    def send(self, envelope: Envelope) -> None:
        del envelope
        self.sent_at = time.perf_counter()
        self.count += 1
        self.arrived.set()


def _latencies(call: Callable[[], float | None], frames: int) -> list[float]:
    return [_seconds(call) for _ in range(frames)]


def _seconds(call: Callable[[], float | None]) -> float:
    """How long `call` took, or the duration it measured itself (when it returns one)."""
    start = time.perf_counter()
    took = call()
    return took if took is not None else time.perf_counter() - start


def _rate(call: Callable[[], int], seconds: float) -> float:
    """Calls per second of `call` (which returns how many frames it finished) over `seconds`."""
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        done += call()
    return done / (time.perf_counter() - start)


class _BareHops:
    """A frame handed to a waiting thread (a condition), run there, and the loop woken as the lanes wake it: the
    path's two wake-ups with nothing of the runtime between them. Build it on the loop (it watches the waker)."""

    def __init__(self, run: Callable[[Frame], object]) -> None:
        self._run = run
        self._wait = threading.Condition()
        self._item: Frame | None = None
        self._stopped = False
        self._waker = LoopWaker(asyncio.get_running_loop(), self._on_loop)
        self._arrived = threading.Event()
        self._at = 0.0  # perf_counter() on the loop when the last frame's wake-up arrived
        self._thread = threading.Thread(target=self._main, name="bench-hops", daemon=True)
        self._thread.start()

    def one(self, item: Frame) -> float:
        """Hand `item` over, wait for the loop to hear it was run; the time from the hand-over to the loop."""
        self._arrived.clear()
        start = time.perf_counter()
        with self._wait:
            self._item = item
            self._wait.notify()
        self._arrived.wait(5)
        return self._at - start

    def stop(self) -> None:
        with self._wait:
            self._stopped = True
            self._wait.notify()
        self._thread.join(5)

    def _main(self) -> None:
        while True:
            with self._wait:
                while self._item is None and not self._stopped:
                    self._wait.wait()
                item, self._item = self._item, None
                if item is None:  # stopped
                    return
            self._run(item)
            self._waker.wake()

    def _on_loop(self) -> None:
        self._at = time.perf_counter()
        self._arrived.set()


class _Loops:
    """The three ways to run a frame: `invoke()` alone, a bare `Runner.run`, and the runtime's path."""

    def __init__(self, model: BenchModel, channel: Channel[Item], sink: _SignalSink, stats: StreamStats) -> None:
        self.interp = LiteInterpreter(model.path, model.accel(), f"model 'bench' ({model.path})")
        info = self.interp.inputs[0]
        self.interp.set_input(np.zeros(info.shape, dtype=info.dtype))
        self.runner = load_model("bench", model.config(), model.accel(), ROOT).instantiate()
        self.items = [frame(model, i) for i in range(8)]
        self.channel = channel
        self.sink = sink
        self.stats = stats
        self.i = 0
        self.put = 0  # frames the channel took, to wait for the last results before another loop runs
        self.topped = 0  # results seen by the last `top_up`
        self.hops = _BareHops(self.runner.run)

    def invoke(self) -> None:
        self.interp.invoke()

    def bare(self) -> None:
        self.i += 1
        self.runner.run(self.items[self.i % len(self.items)])

    def bare_hops(self) -> float:
        self.i += 1
        return self.hops.one(self.items[self.i % len(self.items)])

    def one_in_flight(self) -> float:
        """Put one frame, wait for its result; the time from the put to the sink's `send`."""
        self.sink.arrived.clear()
        start = time.perf_counter()
        self._put()
        self.sink.arrived.wait(5)
        return self.sink.sent_at - start

    def _once(self, call: Callable[[], object]) -> Callable[[], int]:
        def counted() -> int:
            call()
            return 1

        return counted

    def top_up(self) -> int:
        """Offer a frame for each result since the last call and one more, then wait for a result (it never
        polls); returns the results that arrived. So a frame always waits for the lane and each result costs the
        same offers whatever the path buffers (filling the channel instead would offer more frames per result to
        a path that moves them out of the channel sooner)."""
        first = self.sink.count
        self.sink.arrived.clear()
        for _ in range(first - self.topped + 1):
            self._put()
        self.topped = first
        self.sink.arrived.wait(1)
        return self.sink.count - first

    def drained(self) -> None:
        """Wait until every frame put has its result or was superseded: the lane is idle again."""
        end = time.monotonic() + 5
        while self.sink.count + self.stats.drops.total < self.put and time.monotonic() < end:
            self.sink.arrived.clear()
            self.sink.arrived.wait(0.1)
        self.topped = self.sink.count

    def _put(self) -> None:
        self.i += 1
        if self.channel.put(self.items[self.i % len(self.items)]):  # a frame refused (channel full) is never seen
            self.put += 1

    def measure(self, frames: int, seconds: float) -> dict[str, dict[str, float]]:
        loops: dict[str, Callable[[], float | None]] = {
            "raw": self.invoke,
            "raw_run": self.bare,
            "hops": self.bare_hops,
            "runtime": self.one_in_flight,
        }
        for call in loops.values():
            _latencies(call, WARM_UP)
        times: dict[str, list[float]] = {name: [] for name in loops}
        for _ in range(ROUNDS):
            for name, call in loops.items():
                times[name] += _latencies(call, max(1, frames // ROUNDS))
        self.hops.stop()
        saturated = {name: call for name, call in loops.items() if name != "hops"}  # a floor for latency only
        rates: dict[str, list[float]] = {name: [] for name in saturated}
        for _ in range(ROUNDS // 2):
            for name, call in saturated.items():
                rate_call = self.top_up if name == "runtime" else self._once(call)
                rates[name].append(_rate(rate_call, seconds / (ROUNDS // 2)))
                self.drained()
        self.channel.close()
        return {
            name: {
                "median_us": statistics.median(times[name]) * 1e6,
                "mean_us": statistics.fmean(times[name]) * 1e6,
                **({"fps": statistics.median(rates[name])} if name in rates else {}),
            }
            for name in loops
        }


def _measure(
    model: BenchModel, frames: int, seconds: float, profiler: cProfile.Profile | None = None
) -> dict[str, dict[str, float]]:
    return asyncio.run(_with_runtime(model, frames, seconds, profiler))


async def _with_runtime(
    model: BenchModel, frames: int, seconds: float, profiler: cProfile.Profile | None = None
) -> dict[str, dict[str, float]]:
    service = AcceleratorService(model.accel())
    service.set_model("bench", load_model("bench", model.config(), model.accel(), ROOT))
    stats = service.register_stream("bench", "high", None)
    channel: Channel[Item] = Channel(2, "drop_newest", DropCounter())
    sink = _SignalSink()
    infer = InferStep("bench", service.submit, service)
    runner = StreamRunner("bench", channel, stats=stats, infer=infer, stages=[], sinks=[sink], envelope=_envelope)
    loops = _Loops(model, channel, sink, stats)
    async with service, TaskGroup() as group:
        group.create_task(runner.dispatch(), name="dispatch:bench")
        collect = group.create_task(runner.collect(), name="collect:bench")
        channel.bind(asyncio.get_running_loop())
        with profiler or contextlib.nullcontext():  # the event loop's thread only
            figures = await asyncio.to_thread(loops.measure, frames, seconds)
        await collect
    return figures


def _envelope(result: Result) -> Envelope:
    return result.envelope("bench", "bench")


def loop_profile(profiler: cProfile.Profile, entries: int = PROFILE_ENTRIES) -> list[str]:
    """The event loop thread's top functions by own time, as pstats prints them."""
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(entries)
    text = out.getvalue()
    return text[text.index("   ncalls") :].rstrip().splitlines() if "   ncalls" in text else []


def run(model: BenchModel, frames: int = 500, seconds: float = 5.0, *, profile: bool = False) -> dict[str, Any]:
    """`profile`: cProfile the event loop's thread while the loops run (slower figures: for where, not how much)."""
    profiler = cProfile.Profile() if profile else None
    figures = _measure(model, frames, seconds, profiler)
    raw, bare, hops, path = figures["raw"], figures["raw_run"], figures["hops"], figures["runtime"]
    overhead_us = path["median_us"] - raw["median_us"]
    return {
        "raw": raw,
        "raw_run": bare,
        "hops": hops,
        "runtime": path,
        "pre_post_us": bare["median_us"] - raw["median_us"],
        "path_us": path["median_us"] - bare["median_us"],
        "hops_us": hops["median_us"] - bare["median_us"],  # the two wake-ups alone: the path's floor
        "hops_floor_us": hops["median_us"] - raw["median_us"],  # the overhead with no runtime between the hops
        "runtime_own_us": path["median_us"] - hops["median_us"],
        "overhead_us": overhead_us,
        "overhead_pct": 100 * overhead_us / raw["median_us"],
        "saturated_frame_us": 1e6 / path["fps"] - 1e6 / raw["fps"],
        "throughput_ratio": path["fps"] / raw["fps"],
        **({"loop_profile": loop_profile(profiler)} if profiler is not None else {}),
    }
