"""The queue the event loop and the lanes share, behind one lock: who runs what, decided the moment a lane is free.

The loop pushes jobs (`submit`); a lane that has nothing to do waits on its own condition. A job pushed while a
lane waits is popped for it at once (reserved lanes first) and the lane is woken with it in hand. A lane that
finishes a job pops its next one itself, under the lock, without a round trip through the loop; so the policy's
decisions (class, deadline, staleness) are still taken at dispatch time, just on the lane's thread.

While a reserved lane runs a job it took when idle, the other lanes start no job of a class below the one it is
kept for (`hold`, the accelerator's `reserved_alone`): the reserved class's frame runs without a lower class's
invoke beside it sharing the memory bandwidth and caches; the reserved lane wakes them when that job is done. A
job it takes right after another (its class has a backlog) holds nobody: a busy reserved class never starves the
others, and its latency is then its queue's anyway. With `hold`, the lanes that take every class also run at a
lower OS priority (`GENERAL_NICE`): when the cores are busy (two lanes and the capture threads on two cores), the
kernel runs a reserved lane's thread, just woken with its frame, ahead of them.

What leaves the queue or a lane (`Report`: a finished job, or a job refused with a reason) is handed back to the
loop in batches: the first report after the loop last collected owes the loop one `notify` (a loop callback), and
the loop takes every report gathered by then (`collect`). Until the loop has taken it, a finished job counts as
running. The lane that owes the notify sends it outside the lock, once its next job is ready to invoke (or before
it waits): the wake-up makes the loop take the GIL, and by then the lane no longer needs it.

A capture thread may push too (`submit_direct`): under the same lock, a job it pushes while a lane waits goes to
that lane at once, with no hop through the loop; what that push makes leave the queue becomes a report like the
lanes' ones, so every outcome is still settled on the loop. A newer frame of a stream whose job is still queued
takes that job's place instead (`replace_direct`): one job, one token, nothing to report; the frame it replaces
is counted `superseded` at once (`replaced`), so a camera faster than the model costs the loop nothing.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from edge_runtime.drops import ERROR, SHUTDOWN
from edge_runtime.jobs import Job, ModelHandle
from edge_runtime.scheduler._anticipate import Anticipation
from edge_runtime.scheduler._lane import Assignment, Finished, Forget, Lane, Next
from edge_runtime.scheduler._tickets import LOWEST_RANK, QueuePolicy, Ticket

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Refused:
    """A job that left the queue without running (superseded, stale, queue_full, or error with `detail`)."""

    ticket: Ticket[Any]
    reason: str
    detail: str = ""


Report = Finished | Refused
RUNNER_GRACE = 5.0
GENERAL_NICE = 10  # OS nice value added to the general lanes' threads when lanes are reserved (`hold`)


class Dispatcher:
    """The policy, the model handles and the lanes' hands, behind `lock`. Lanes are listed most exclusive first."""

    def __init__(
        self, policy: QueuePolicy[Any], limits: list[int], models: Mapping[str, ModelHandle], clock: Clock,
        *, hold: bool = True, anticipate: bool = False,
    ) -> None:  # fmt: skip
        self.lock = threading.Lock()
        self.policy = policy
        self.models: dict[str, ModelHandle] = dict(models)
        # with `hold`, the lanes that take every class also yield the CPU to the reserved lanes' threads
        nice = GENERAL_NICE if hold and any(limit < LOWEST_RANK for limit in limits) else 0
        self.lanes = [
            Lane(i, limit, self.lock, clock, nice if limit == LOWEST_RANK else 0) for i, limit in enumerate(limits)
        ]
        self._exclusive_first = sorted(self.lanes, key=lambda lane: lane.limit)
        self._clock = clock
        self._running: Counter[str] = Counter()
        self.direct: Counter[str] = Counter()  # jobs per stream that came from a capture thread (under the lock)
        self.replaced: Counter[str] = Counter()  # of which replaced a queued one (`replace_direct`): superseded
        self._reports: list[Report] = []
        self._notify: Callable[[], None] | None = None
        self._notified = False
        self.stopped = False
        self.paused: frozenset[int] = frozenset()  # lane indices that take no new job (thermal: fewer lanes)
        self.hold = hold  # a reserved lane's job taken when idle: the other lanes start no lower-class job meanwhile
        reserved = max((limit for limit in limits if limit < LOWEST_RANK), default=-1)
        self.anticipation = Anticipation(reserved) if anticipate else None  # lanes kept free for a frame due

    def start(self, notify: Callable[[], None]) -> None:
        """Start the lane threads; `notify` is called (from a lane thread) when reports wait for the loop."""
        self._notify = notify
        for lane in self.lanes:
            lane.start(self.next_for, self.tell_loop)

    # --- the loop's side -------------------------------------------------------------------------------------

    def submit(self, job: Job, token: Any, now: float) -> list[Refused]:
        """Queue a job; hand it to a waiting lane at once. Returns what left the queue because of it."""
        with self.lock:
            return self._queue(job, token, now)

    def submit_direct(self, job: Job, token: Any, now: float, refusal: tuple[str, str] | None = None) -> None:
        """`submit` from any thread (a capture thread): counted in `direct`; what leaves the queue because of it
        (or the job itself, with `refusal` or once stopped) goes to the reports, for the loop to settle."""
        with self.lock:
            self.direct[job.stream] += 1
            if self.stopped:
                refusal = (SHUTDOWN, "the accelerator service has stopped")
            if refusal is not None:
                self._reports.append(Refused(Ticket(job, token, LOWEST_RANK, math.inf, now, 0), *refusal))
            else:
                self._reports.extend(self._queue(job, token, now))
            # what the policy dropped (a superseded frame) rides with the report of a job running now, if any, with
            # no wake-up of its own: a camera faster than the model does not wake the loop for every frame it offers
            owed = bool(self._reports) and (refusal is not None or not any(lane.current for lane in self.lanes))
            owed = owed and self._owe()
        if owed:
            self.tell_loop()

    def replace_direct(self, job: Job, token: Any, now: float, swap: Callable[[Any], None]) -> bool:
        """From any thread: `job` in the place of `token`'s job while that one is still queued, as a newer frame of
        a stream that supersedes; `swap(job.frame)` is called under the lock (the token's frame is this one from
        then on). Counted in `direct` and `replaced`; False when that job has left the queue (or at stop)."""
        with self.lock:
            if self.stopped or not self.policy.replace(job, token, now):
                return False
            if self.anticipation is not None:
                self.anticipation.arrived(job.stream, self.policy.rank(job.stream), now)
            swap(job.frame)
            self.direct[job.stream] += 1
            self.replaced[job.stream] += 1
            return True

    def remove_stream(self, stream: str) -> bool:
        """Forget a stream's rule and counts, if it has no job queued, running or waiting for the loop; False (and
        nothing forgotten) otherwise."""
        with self.lock:
            waiting = any(_report_stream(r) == stream for r in self._reports)
            if self.policy.queued(stream) or self._running[stream] or waiting:
                return False
            self.policy.remove_stream(stream)
            if self.anticipation is not None:
                self.anticipation.forget(stream)
            for counts in (self._running, self.direct, self.replaced):
                counts.pop(stream, None)
            return True

    def collect(self) -> list[Report]:
        """Take the reports the lanes gathered; their jobs stop counting as running."""
        with self.lock:
            return self._take_reports()

    def collect_with_counts(self, streams: list[str]) -> tuple[list[Report], dict[str, tuple[int, int, int, int]]]:
        """`collect`, and at the same instant (queued, running, submitted directly, replaced) per stream: apply the
        reports, and the books add up."""
        with self.lock:
            reports = self._take_reports()
            return reports, {
                s: (self.policy.queued(s), self._running[s], self.direct[s], self.replaced[s]) for s in streams
            }

    def set_model(self, name: str, handle: ModelHandle) -> ModelHandle | None:
        """Replace a model's handle; lanes drop their runner of the old one after the job in hand."""
        with self.lock:
            old = self.models.get(name)
            self.models[name] = handle
            if old is not None and old is not handle:
                for lane in self.lanes:
                    lane.forgets.append((name, handle))
                    lane.wake.notify()
        return old

    def stop(self) -> list[Ticket[Any]]:
        """No more dispatch: empty the queue (returned) and wake every lane so it ends after its job in hand."""
        with self.lock:
            self.stopped = True
            for lane in self.lanes:
                lane.wake.notify()
            return self.policy.drain()

    def abandon(self) -> tuple[list[Ticket[Any]], list[Report]]:
        """After the stop wait: the jobs still on a lane (their lanes' later reports are ignored), and the reports."""
        with self.lock:
            stuck = []
            for lane in self.lanes:
                if lane.current is not None:
                    lane.current.abandoned = True
                    stuck.append(lane.current.ticket)
                    self._running[lane.current.ticket.job.stream] -= 1
                    lane.current = None
            return stuck, self._take_reports()

    def use_lanes(self, count: int | None) -> None:
        """Let only `count` lanes take new jobs (None: all): reserved lanes first, and always one general lane;
        a lane paused mid-job finishes it."""
        with self.lock:
            keep = len(self.lanes) if count is None else max(1, count)
            general = [lane.index for lane in self.lanes if lane.limit == LOWEST_RANK]
            kept = {lane.index for lane in self._exclusive_first[:keep]} | {general[0]}
            self.paused = frozenset(lane.index for lane in self.lanes if lane.index not in kept)
            for lane in self.lanes:
                lane.wake.notify()

    def replace_stuck(
        self, limit_of: Callable[[str], float], floor_s: float, now: float
    ) -> list[tuple[Lane, Assignment]]:
        """Retire every lane whose job has run longer than its model's limit (s, never below `floor_s`): a fresh
        lane takes its place at once, the job is abandoned (returned, with the retired lane), the old thread ends
        when it returns. A model's limit is asked for only once its job has run past the floor (rarely)."""
        with self.lock:
            if self.stopped:
                return []
            stuck = [
                (i, lane, job)
                for i, lane in enumerate(self.lanes)
                if (job := lane.current) is not None
                and _overdue(job, floor_s, now)
                and _overdue(job, limit_of(job.ticket.job.model), now)
            ]
            for i, lane, assignment in stuck:
                assignment.abandoned = True
                self._running[assignment.ticket.job.stream] -= 1
                lane.current, lane.retired = None, True
                self.lanes[i] = _successor(lane, self.lock, self._clock)
            if stuck:
                self._exclusive_first = sorted(self.lanes, key=lambda lane: lane.limit)
                for lane in self.lanes:  # a stuck reserved lane no longer holds the others
                    lane.wake.notify()
        for i, _, _ in stuck:
            self.lanes[i].start(self.next_for, self.tell_loop)
        return [(lane, assignment) for _, lane, assignment in stuck]

    # --- the lanes' side (lane threads) ----------------------------------------------------------------------

    def next_for(self, lane: Lane, finished: Finished | None) -> Next:
        """Report the job a lane finished and hand it its next one (or models to forget), waiting while there is
        nothing; `Next(None, [], ...)` at stop. When `Next.owed`, the lane calls `tell_loop` before it next blocks
        (in `invoke()`, or here waiting), so the loop's work on the reports overlaps the lane's, not its Python."""
        with self.lock:
            if finished is not None:
                lane.current = None
                if not finished.assignment.abandoned:
                    self._reports.append(finished)
                    self._served(finished)
            if lane.retired:
                return Next(None, [], owed=False)  # the watchdog gave its place to a fresh lane: end the thread
            work = self._work_for(lane)
            if finished is not None and finished.assignment.alone:
                self._release_held(lane)
            if work is not None:
                return Next(*work, owed=self._owe())
            owed = self._owe()
            lane.waiting = True  # from now on, `submit` hands this lane a job directly
        if owed:
            self.tell_loop()
        with self.lock:
            while (work := self._work_for(lane)) is None:
                lane.wait_until = lane.recheck_at
                lane.wake.wait(None if lane.wait_until is None else max(0.0, lane.wait_until - self._clock()))
            lane.waiting, lane.wait_until = False, None
            return Next(*work, owed=self._owe())

    def tell_loop(self) -> None:
        """Have the loop collect the reports (called by a lane, outside the lock)."""
        if self._notify is not None:
            self._notify()

    # --- under the lock --------------------------------------------------------------------------------------

    def _queue(self, job: Job, token: Any, now: float) -> list[Refused]:
        if self.anticipation is not None:
            self.anticipation.arrived(job.stream, self.policy.rank(job.stream), now)
        refused = [Refused(t, reason) for t, reason in self.policy.push(job, token, now)]
        for lane in self._exclusive_first:
            if lane.waiting and lane.current is None and len(self.policy) and lane.index not in self.paused:
                lane.current = self._pop_for(lane, now, refused)
                if lane.current is not None or _sooner(lane.recheck_at, lane.wait_until):
                    lane.wake.notify()  # with its job, or to wait no longer than the anticipated frame
        return refused

    def _pop_for(self, lane: Lane, now: float, refused: list[Refused]) -> Assignment | None:
        while True:
            ticket, drops = self.policy.pop(now, self._limit_for(lane))
            refused.extend(Refused(t, reason) for t, reason in drops)
            if ticket is None:
                return None
            handle = self.models.get(ticket.job.model)
            if handle is not None:
                self._running[ticket.job.stream] += 1
                return Assignment(ticket, handle, now, alone=lane.waiting)
            refused.append(Refused(ticket, ERROR, f"no model {ticket.job.model!r} is loaded"))

    def _work_for(self, lane: Lane) -> tuple[Assignment | None, list[Forget]] | None:
        """What a free lane does now: its next job and/or models to forget; None when there is nothing yet."""
        forgets, lane.forgets = lane.forgets, []
        if lane.current is None and not self.stopped and len(self.policy) and lane.index not in self.paused:
            refused: list[Refused] = []
            lane.current = self._pop_for(lane, self._clock(), refused)
            self._reports.extend(refused)
        if lane.current is not None or forgets or self.stopped:
            return lane.current, forgets
        return None

    def _limit_for(self, lane: Lane) -> int:
        """The lowest class `lane` may start now: its own limit, or (with `hold`) the class of a reserved lane that
        is running a job, so a reserved class's frame runs without a lower class's invoke beside it; or (with
        anticipation) the class of a periodic stream whose frame is due before a lower-class job would end."""
        limit = lane.limit
        if self.hold:
            for other in self.lanes:
                if other.limit < limit and other.current is not None and other.current.alone:
                    limit = other.limit
        lane.recheck_at = None
        if self.anticipation is not None and limit > 0:
            limit, lane.recheck_at = self.anticipation.limit(limit, self._clock())
        return limit

    def _served(self, finished: Finished) -> None:
        if self.anticipation is not None:
            stream = finished.assignment.ticket.job.stream
            self.anticipation.served(stream, finished.assignment.ticket.rank, finished.service)

    def _release_held(self, reserved: Lane) -> None:
        """A reserved lane finished the job it held the others for: they may start lower-class jobs again."""
        for lane in self.lanes:
            if lane.limit > reserved.limit and lane.waiting:
                lane.wake.notify()

    def _owe(self) -> bool:
        """True when reports wait and nobody has told the loop yet: the caller must (`tell_loop`)."""
        if self._reports and not self._notified:
            self._notified = True
            return True
        return False

    def _take_reports(self) -> list[Report]:
        reports, self._reports = self._reports, []
        self._notified = False
        for report in reports:
            if isinstance(report, Finished):
                self._running[report.assignment.ticket.job.stream] -= 1
        return reports


def _report_stream(report: Report) -> str:
    ticket = report.assignment.ticket if isinstance(report, Finished) else report.ticket
    return ticket.job.stream


def _sooner(recheck: float | None, waiting_until: float | None) -> bool:
    """A free lane must look again earlier than it planned to (it waits until `waiting_until`, None: woken)."""
    return recheck is not None and (waiting_until is None or recheck < waiting_until)


def _overdue(job: Assignment, limit: float, now: float) -> bool:
    """Past its limit, counted from the start of the run; a lane still making its runner (a delegate can take a
    while to load) gets RUNNER_GRACE times the limit from dispatch."""
    if job.started is None:
        return now - job.dispatched > RUNNER_GRACE * limit
    return now - job.started > limit


def _successor(lane: Lane, lock: threading.Lock, clock: Clock) -> Lane:
    """A fresh lane in a stuck lane's place: same name and class limit, its counts carried on."""
    fresh = Lane(lane.index, lane.limit, lock, clock, lane.nice)
    fresh.jobs, fresh.errors, fresh.busy_s, fresh.stuck = lane.jobs, lane.errors, lane.busy_s, lane.stuck + 1
    return fresh
