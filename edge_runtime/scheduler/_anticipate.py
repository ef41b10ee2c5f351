"""Anticipation: a lane kept free for a periodic stream's next frame when a lower-class job would be in its way.

No invoke can be interrupted. A lane that starts a lower-class job just before a higher-class frame arrives makes
that frame wait for the whole job: the non-preemptive floor, up to 2 S for the higher class. A camera's frames
come at a steady rate, so the next one can be seen coming: when the next frame of a higher-class stream is due
before a lower-class job started now would end, the lane starts no job below that class until the frame has
come, or is late by a lower-class job's time: then the prediction is dropped until the stream's next frame, and
the lane has idled no longer than that frame would have waited without it.

A lower-class job that would run into the frame by at most half of itself still starts (`OVERLAP`): the frame
then waits at most half a job, and the lower classes lose only the gap before a frame when a lane comes free in
the last half job before it (measured with the bench's 2x overload: high's frames arrive within 0.1 ms of the
prediction, and a lane waits 0.4 ms at the median, before half of them). It applies only where that is small: the
stream's last intervals are regular (each within a quarter of their median) and a lower-class job is at most
`MAX_IDLE` of the period. Otherwise (a gated stream, a slow model, a camera that drops frames) the lanes work as
they would without it. A class with a lane reserved for it is left out: its frames do not wait for the others'
lanes (`reserved_alone` keeps its frame's invoke from sharing the machine).

Kept under the dispatcher's lock: arrivals are noted as jobs are queued (or replace a queued one), service times
as lanes report them.
"""

from __future__ import annotations

from collections import deque

from edge_runtime.scheduler._tickets import LOWEST_RANK

INTERVALS = 8  # arrivals remembered per stream
REGULAR = 0.25  # each interval within this fraction of the median one
MAX_IDLE = 0.15  # a lower-class job longer than this fraction of the period: no anticipation for that stream
OVERLAP = 0.5  # a lower-class job may still start if it would run into the due frame by at most this part of itself
SMOOTHING = 0.1  # weight of the newest service time in a stream's typical one


class _Arrivals:
    """A stream's last arrival and, once its intervals are regular, their period."""

    __slots__ = ("intervals", "last", "period", "rank")

    def __init__(self, rank: int, now: float) -> None:
        self.rank = rank
        self.last = now
        self.intervals: deque[float] = deque(maxlen=INTERVALS)
        self.period: float | None = None

    def arrived(self, now: float) -> None:
        self.intervals.append(now - self.last)
        self.last = now
        self.period = _regular_period(self.intervals) if len(self.intervals) >= INTERVALS // 2 else None


class Anticipation:
    """Arrivals and service times per stream; `limit` says which classes a free lane may start now."""

    def __init__(self, reserved: int = -1) -> None:
        self._reserved = reserved  # the classes up to this rank have a lane of their own: not anticipated
        self._arrivals: dict[str, _Arrivals] = {}  # the streams that may be anticipated
        self._service: dict[str, tuple[int, float]] = {}  # stream: (rank, typical service time, s)

    def arrived(self, stream: str, rank: int, now: float) -> None:
        if rank <= self._reserved or rank == LOWEST_RANK:
            return  # a lane of its own, or no class below it to keep waiting
        seen = self._arrivals.get(stream)
        if seen is None:
            self._arrivals[stream] = _Arrivals(rank, now)
        else:
            seen.arrived(now)

    def served(self, stream: str, rank: int, seconds: float) -> None:
        typical = self._service.get(stream)
        value = seconds if typical is None else typical[1] + SMOOTHING * (seconds - typical[1])
        self._service[stream] = (rank, value)

    def forget(self, stream: str) -> None:
        self._arrivals.pop(stream, None)
        self._service.pop(stream, None)

    def limit(self, limit: int, now: float) -> tuple[int, float | None]:
        """The lowest class (rank) a lane limited to `limit` may start now, and when to ask again (None: only when
        something changes): until then a higher-class frame is due within a lower-class job's time."""
        kept, until = limit, None
        for seen in self._arrivals.values():
            rank, period = seen.rank, seen.period
            if rank >= kept or period is None:
                continue
            due = seen.last + period
            job = self._longest_below(rank, kept)
            if job is None or job > MAX_IDLE * period or due - now > (1 - OVERLAP) * job:
                continue  # nothing below it, too slow to wait for, or a job started now ends (nearly) before it
            give_up = due + job  # late by a lower-class job: waiting longer would cost more than not waiting
            if now >= give_up:
                continue  # late: the prediction is off until the stream's next frame
            kept, until = rank, give_up if until is None else min(until, give_up)
        return kept, until

    def _longest_below(self, rank: int, limit: int) -> float | None:
        """The typical service time of the slowest stream a lane could start below `rank` (up to `limit`)."""
        times = [s for r, s in self._service.values() if rank < r <= limit]
        return max(times) if times else None


def _regular_period(intervals: deque[float]) -> float | None:
    ordered = sorted(intervals)
    period = ordered[len(ordered) // 2]
    if period <= 0 or ordered[0] < (1 - REGULAR) * period or ordered[-1] > (1 + REGULAR) * period:
        return None
    return period
