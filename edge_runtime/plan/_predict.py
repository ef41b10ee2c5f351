"""The capacity plan: from each stream's fps and its model's service time, what the scheduler will make of them.

Pure arithmetic on the config and the measured service times (no clock, no threads):

- a stream's *share* of a lane is ``fps x service median``; a lane's utilisation is the shares it carries;
- classes take the lanes they may use (reserves) highest first (``priority``; ``fifo``: all together), so a
  class gets the capacity its betters leave, and a class short of it is *shed* (frames superseded or stale);
- a class's worst-case wait (priority) is a response-time bound for non-preemptive fixed priority on ``n``
  lanes: one job in service (the p99 of a lower-class stream; none when a lane it may use is closed to that
  class), one queued frame of every other stream of its class (a newer frame supersedes an older one), and every
  frame of a higher class arriving meanwhile, spread over the lanes, queued jobs at their median:
  ``W = B + (sum_same s_j + sum_higher (1 + floor(W f_j)) s_j) / n``, iterated to its fixed point (none: the wait
  is unbounded); with `anticipate`, a lower-class job in service holds up a periodic stream (a known fps, no
  gate, no lane reserved for its class) by at most its p99 less the part of its median it must leave before the
  frame (``p99 - (1 - OVERLAP) x median``), where such a job is short against the stream's period (the
  scheduler's `MAX_IDLE`); the gaps this leaves before the anticipated frames are not taken from capacity (half
  a lower-class job at most before a frame that comes on time, one more if it is late; 0.4 ms at the median in
  the bench's 2x overload);
- ``fifo`` serves in arrival order, with nothing superseded or stale: a job waits behind what is queued ahead of
  it, and at overload that is set by the bounds, not the rates: a stream has at most ``STREAM_INFLIGHT + 2`` jobs
  submitted (its dispatch waits for its collect), and the queue holds at most the sum of the class bounds;
- the jobs that *run* wait less than the bound when the bound is long (``served_wait_s``): under ``priority`` a
  queued job is superseded by its stream's next frame after one frame interval, and dropped stale after its
  ``deadline_ms``, so a shed class's served jobs waited at most the least of these (the rest are the shed share);
- a stream fits when it is not shed and a frame's wait plus its service p99 is within its budget
  (``deadline_ms``; none: one frame interval, after which a newer frame supersedes it).

`min_share` and `max_wait_ms` guards are not modelled: they move capacity toward lower classes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from edge_runtime.config import PRIORITIES, RuntimeConfig
from edge_runtime.config._models import InferStageConfig
from edge_runtime.gates import GateConfig
from edge_runtime.jobs import STREAM_INFLIGHT
from edge_runtime.scheduler import LOWEST_RANK, lane_limits
from edge_runtime.scheduler._anticipate import MAX_IDLE, OVERLAP
from edge_runtime.scheduler._tickets import class_bounds

ASSUMED_FPS = 30.0  # a camera or video source without `fps:` runs at its native rate: assume this
_HORIZON_S = 60.0  # a wait beyond this is unbounded
STREAM_JOBS = STREAM_INFLIGHT + 2  # jobs one stream can have submitted and not yet collected


@dataclass(frozen=True, slots=True)
class ServiceTime:
    """One model's measured service time (preprocess + invoke + decode), in seconds."""

    median_s: float
    p99_s: float
    runs: int


@dataclass(frozen=True, slots=True)
class StreamPlan:
    stream: str
    priority: str
    fps: float
    fps_assumed: bool
    models: tuple[str, ...]
    service_s: float  # median per frame, all its models
    p99_s: float
    share: float  # of one lane
    wait_s: float  # the class's predicted worst-case wait (math.inf: unbounded)
    served_wait_s: float  # what the jobs that do run wait at most (the others are superseded or stale)
    deadline_s: float
    served_fraction: float  # of its frames the lanes can run (1.0: all)

    @property
    def fits(self) -> bool:
        return self.served_fraction >= 1.0 and self.wait_s + self.p99_s <= self.deadline_s


@dataclass(frozen=True, slots=True)
class Plan:
    policy: str
    lanes: list[tuple[str, float]]  # (which classes it takes, utilisation: offered share, may exceed 1)
    streams: list[StreamPlan]

    @property
    def fits(self) -> bool:
        return all(s.fits for s in self.streams)


def predict(config: RuntimeConfig, times: dict[str, ServiceTime], runs: dict[str, float] | None = None) -> Plan:
    """The plan of `config` with these service times (one per model the streams use). `runs`: how many times a
    model runs per frame (a cascade's second stage runs once per expected crop; default 1)."""
    demands = [d for name in config.streams if (d := _demand(name, config, times, runs or {})) is not None]
    limits = lane_limits(config.accelerator)
    fifo = config.accelerator.policy == "fifo"
    rank: dict[str, int] = {p: (0 if fifo else i) for i, p in enumerate(PRIORITIES)}
    served, lane_load = _capacity(demands, limits, rank, hold=config.accelerator.reserved_alone)
    reserved = max((limit for limit in limits if limit < LOWEST_RANK), default=-1)
    streams = []
    for d in demands:
        usable = [limit for limit in limits if fifo or limit >= PRIORITIES.index(d.priority)]
        if fifo:
            wait = served_wait = _fifo_wait(d, demands, len(limits), sum(class_bounds(config.accelerator.queue_bounds)))
        else:
            anticipated = config.accelerator.anticipate and d.periodic and PRIORITIES.index(d.priority) > reserved
            wait = _worst_wait(d, demands, rank, usable, anticipated=anticipated)
            served_wait = min(wait, 1.0 / d.fps, d.deadline_s)
        streams.append(
            StreamPlan(
                d.stream, d.priority, d.fps, d.fps_assumed, d.models, d.service_s, d.p99_s,
                d.fps * d.service_s, wait, served_wait, d.deadline_s, served[d.priority if not fifo else "all"],
            )
        )  # fmt: skip
    takes = ["all" if limit == LOWEST_RANK else f"{PRIORITIES[limit]}+" for limit in limits]
    lanes = list(zip(takes, lane_load, strict=True))
    return Plan(config.accelerator.policy, lanes, streams)


@dataclass(frozen=True, slots=True)
class _Demand:
    stream: str
    priority: str
    fps: float
    fps_assumed: bool
    models: tuple[str, ...]
    service_s: float
    p99_s: float
    deadline_s: float
    periodic: bool  # a known fps and no gate: its frames come at a steady rate


def _demand(name: str, config: RuntimeConfig, times: dict[str, ServiceTime], runs: dict[str, float]) -> _Demand | None:
    stream = config.streams[name]
    stages = stream.pipeline if isinstance(stream.pipeline, list) else []
    models = tuple(s.model for s in stages if isinstance(s, InferStageConfig))
    if not models:
        return None
    fps = getattr(stream.source, "fps", None)
    assumed = not isinstance(fps, int | float)
    rate = ASSUMED_FPS if assumed else float(fps)  # type: ignore[arg-type]
    deadline = stream.deadline_ms / 1e3 if stream.deadline_ms is not None else 1.0 / rate
    median = sum(times[m].median_s * runs.get(m, 1.0) for m in models)
    p99 = sum(times[m].p99_s * runs.get(m, 1.0) for m in models)
    gated = any(isinstance(s, GateConfig) for s in stages)
    return _Demand(name, stream.priority, rate, assumed, models, median, p99, deadline, not assumed and not gated)


def _capacity(
    demands: list[_Demand], limits: list[int], rank: dict[str, int], *, hold: bool
) -> tuple[dict[str, float], list[float]]:
    """Fill the lanes class by class, best first, each class on the lanes it may use (most exclusive first):
    the fraction of each class's frames served, and each lane's offered utilisation. `hold`: the time a reserved
    lane runs is taken from what the other lanes have for lower classes too (they start none of theirs meanwhile)."""
    free = [1.0] * len(limits)
    load = [0.0] * len(limits)
    served: dict[str, float] = {}
    for level in sorted(set(rank.values())):
        group = [d for d in demands if rank[d.priority] == level]
        key = "all" if len(set(rank.values())) == 1 else PRIORITIES[level]
        if not group:
            served[key] = 1.0
            continue
        need = sum(d.fps * d.service_s for d in group)
        usable = [i for i, limit in enumerate(limits) if limit >= level]
        left = need
        held = [0.0] * len(limits)  # `hold`: what the lower classes lose on each lane while reserved lanes run
        for i in usable:
            take = min(free[i], left)
            free[i] -= take
            left -= take
            for j, limit in enumerate(limits):
                if hold and limit > limits[i]:
                    held[j] += take
        free = [max(0.0, f - h) for f, h in zip(free, held, strict=True)]
        served[key] = 1.0 if need <= 0 else (need - left) / need
        spread = need / len(usable)  # offered load, shown per lane even when it exceeds what the lane can do
        for i in usable:
            load[i] += spread
    return served, load


def _worst_wait(
    d: _Demand, demands: list[_Demand], rank: dict[str, int], usable: list[int], *, anticipated: bool = False
) -> float:
    """`usable`: the class limits of the lanes `d` may run on. A job can be held up by one job in service of its
    class or a lower one that may take every usable lane (its own stream's previous frame, when frames come
    faster than its p99; a lower one only in part when `anticipated`); then by one queued job of each other
    stream of its level (supersede keeps one per stream), and by every job of a higher class arriving
    meanwhile."""
    level = rank[d.priority]
    others = [o for o in demands if o is not d]
    running = [*others, d] if 1.0 / d.fps < d.p99_s else others

    def holds_up(o: _Demand) -> float:
        if anticipated and rank[o.priority] > level and o.service_s <= MAX_IDLE / d.fps:
            return max(0.0, o.p99_s - (1 - OVERLAP) * o.service_s)  # started at most OVERLAP of it before
        return o.p99_s

    blocking = max(
        (holds_up(o) for o in running if rank[o.priority] >= level and PRIORITIES.index(o.priority) <= min(usable)),
        default=0.0,
    )
    same = sum(o.service_s for o in others if rank[o.priority] == level)
    higher = [o for o in others if rank[o.priority] < level]
    wait = blocking
    for _ in range(1000):
        new = blocking + (same + sum((1 + math.floor(wait * o.fps)) * o.service_s for o in higher)) / len(usable)
        if new > _HORIZON_S:
            return math.inf
        if abs(new - wait) < 1e-9:
            return new
        wait = new
    return math.inf


def _fifo_wait(d: _Demand, demands: list[_Demand], lanes: int, capacity: int) -> float:
    """Arrival order: a job waits for the jobs queued ahead of it. In a wait `W` a stream submits at most
    ``1 + floor(W f)`` jobs (`d`'s own: those before it) and never has more than STREAM_JOBS submitted, and the
    queue holds at most `capacity`. One job is in service (the p99 of any stream); the queued ones run at their
    median, spread over the lanes. Iterated from one service time to its fixed point, which the bounds keep finite."""
    blocking = max(o.p99_s for o in demands)
    wait = blocking
    for _ in range(1000):
        ahead = [(o, _jobs_within(o, wait, own=o is d)) for o in demands]
        jobs = sum(n for _, n in ahead)
        if not jobs:
            return 0.0
        median = sum(n * o.service_s for o, n in ahead) / jobs
        new = blocking + max(0, min(jobs, capacity - 1) - lanes) * median / lanes
        if abs(new - wait) < 1e-9:
            return new
        wait = new
    return wait


def _jobs_within(o: _Demand, wait: float, *, own: bool) -> int:
    """Jobs of `o` queued ahead of a job that waits `wait`: those submitted during it, bounded by its in-flight."""
    if own:
        return min(STREAM_JOBS - 1, math.floor(wait * o.fps))
    return min(STREAM_JOBS, 1 + math.floor(wait * o.fps))
