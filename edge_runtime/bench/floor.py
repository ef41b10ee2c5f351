"""The raw floor of the overload cases: the same arrivals served by bare loops, no runtime in between.

`high` frames arrive at 30 fps from a timer thread; `low` work is always there. One lane: one thread runs bare
`Runner.run` calls, low ones back to back, and takes a waiting high frame next (non-preemptive priority, nothing
else); a high frame's latency is from its arrival to the end of its run, so it pays the low run in progress (up
to S) and its own (S): the 2 S floor. Two lanes, one reserved: a thread runs low back to back, another waits
for each high frame and runs it at once; its latency is a thread wake-up plus S, with the other core busy.
High alone (`low=False`): the high thread with nothing beside it, the least a 30 fps frame can take here.

What the machine adds to S on its own shows here (an invoke after a pause runs on cold caches; two invokes at
once share memory bandwidth), so the runtime's p99 is printed beside this floor, measured in the same run.
"""

from __future__ import annotations

import threading
import time
from threading import Event
from typing import Any

import numpy as np

from edge_runtime.bench._interval import interval
from edge_runtime.bench._setup import ROOT, BenchModel, frame
from edge_runtime.frames import Frame
from edge_runtime.inference import load_model
from edge_runtime.jobs import Runner

HIGH_FPS = 30.0


def run(model: BenchModel, s: float, seconds: float, *, lanes: int, low: bool = True) -> dict[str, Any]:
    """High's latencies (p50/p99/max in multiples of `s`) with low always waiting, on one lane or two; `low=False`:
    high alone on its lane."""
    stop = threading.Event()
    arrivals = _Arrivals()
    high_runner, low_runner = _runner(model), _runner(model)
    latencies: list[float] = []
    item = frame(model)
    if lanes == 1:
        workers = [
            threading.Thread(target=_one_lane, args=((high_runner, low_runner), item, arrivals, latencies, stop))
        ]
    else:
        workers = [threading.Thread(target=_high_lane, args=(high_runner, item, arrivals, latencies, stop))]
        if low:
            workers.append(threading.Thread(target=_low_lane, args=(low_runner, item, stop)))
    for worker in workers:
        worker.start()
    _arrive(arrivals, seconds, stop)
    stop.set()
    arrivals.ring()
    for worker in workers:
        worker.join()
    data = np.array(latencies) / s
    p50, p99 = np.percentile(data, [50, 99]).tolist() if data.size else (0.0, 0.0)
    return {
        "lanes": lanes, "low": low, "frames": int(data.size), "p50_S": p50, "p99_S": p99,
        "p99_interval_S": list(interval(data)), "max_S": float(data.max(initial=0)),
    }  # fmt: skip


class _Arrivals:
    """High frames that arrived and wait for a lane (their arrival times), and a bell for a waiting lane."""

    def __init__(self) -> None:
        self.lock = threading.Condition()
        self.waiting: list[float] = []

    def add(self) -> None:
        with self.lock:
            self.waiting.append(time.perf_counter())
            self.lock.notify()

    def take(self) -> float | None:
        with self.lock:
            return self.waiting.pop(0) if self.waiting else None

    def wait(self) -> float | None:
        with self.lock:
            while not self.waiting:
                if not self.lock.wait(0.5):
                    return None
            return self.waiting.pop(0)

    def ring(self) -> None:
        with self.lock:
            self.lock.notify_all()


def _runner(model: BenchModel) -> Runner:
    return load_model("bench", model.config(), model.accel(), ROOT).instantiate()


def _arrive(arrivals: _Arrivals, seconds: float, stop: Event) -> None:
    """The timer: a high frame every 1/HIGH_FPS s, on the clock (not drifting with the work)."""
    start = time.perf_counter()
    for i in range(1, int(seconds * HIGH_FPS) + 1):
        delay = start + i / HIGH_FPS - time.perf_counter()
        if delay > 0 and stop.wait(delay):
            return
        arrivals.add()


def _one_lane(runners: tuple[Runner, Runner], item: Frame, arrivals: _Arrivals, out: list[float], stop: Event) -> None:
    high, low = runners
    while not stop.is_set():
        arrived = arrivals.take()
        if arrived is None:
            low.run(item)
            continue
        high.run(item)
        out.append(time.perf_counter() - arrived)


def _low_lane(low: Runner, item: Frame, stop: Event) -> None:
    while not stop.is_set():
        low.run(item)


def _high_lane(high: Runner, item: Frame, arrivals: _Arrivals, out: list[float], stop: Event) -> None:
    while not stop.is_set():
        arrived = arrivals.wait()
        if arrived is not None:
            high.run(item)
            out.append(time.perf_counter() - arrived)


def line(floor: dict[str, Any], runtime_p99_s: float) -> str:
    ratio = runtime_p99_s / floor["p99_S"] if floor["p99_S"] else 0.0
    what = f"{floor['lanes']} bare lane(s)" if floor.get("low", True) else "high alone, nothing beside it"
    low, high = floor["p99_interval_S"]
    return (
        f"  raw floor, {what}, same arrivals: high p50 {floor['p50_S']:.2f} S  p99 {floor['p99_S']:.2f} S"
        f" [{low:.2f}-{high:.2f}]  max {floor['max_S']:.2f} S ({floor['frames']} frames); runtime p99 / floor p99"
        f" x{ratio:.2f}"
    )
