"""The accelerator service: every inference of every stream goes through it.

`submit` (on the event loop) queues a job in the policy; whenever a lane is free (a job was submitted while it
waited, or it finished one) the policy picks what that lane runs *now*, so class, deadline and staleness are
judged at dispatch, not at submit. A lane that finishes a job takes its next one itself (`_dispatch.py`), so the
loop is not between two jobs; outcomes come back to the loop in batches, one wake-up per batch. Every submitted
job's future resolves to exactly one `Completed` or `Dropped`, on the loop. A capture thread may submit too
(`submit_from_thread`, with a token of its own instead of a future): its frame reaches a waiting lane without
waking the loop, and its outcome is settled on the loop like the others.

A stream's class, deadline (`deadline_ms` from the frame's capture) and guards come from `register_stream`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from edge_runtime.drops import ERROR, SHUTDOWN, STUCK
from edge_runtime.jobs import Completed, Dropped, Job, ModelHandle, Outcome
from edge_runtime.scheduler._accounting import FailureLog, StreamAccount
from edge_runtime.scheduler._dispatch import Dispatcher, Report
from edge_runtime.scheduler._fifo import FifoPolicy
from edge_runtime.scheduler._lane import Finished, Lane
from edge_runtime.scheduler._policy import PriorityPolicy
from edge_runtime.scheduler._tickets import LOWEST_RANK, QueuePolicy, StreamRule, Ticket
from edge_runtime.scheduler._wake import LoopWaker
from edge_runtime.scheduler._watchdog import CHECK_EVERY_S, Watchdog
from edge_runtime.sections import PRIORITIES, AcceleratorConfig, Priority
from edge_runtime.stats import StreamStats

log = logging.getLogger("edge_runtime.scheduler")

STOP_TIMEOUT_S = 1.5  # default wait at cancellation for the jobs on the lanes to finish


class Settle(Protocol):
    """Where a job's outcome goes, set once on the loop: the future `submit` returns, or the token a capture
    thread hands `submit_from_thread`."""

    def done(self) -> bool: ...

    def set_result(self, result: Outcome, /) -> None: ...


Token = Settle


def lane_limits(config: AcceleratorConfig) -> list[int]:
    """The class limit (rank) of each lane: reserved lanes first, most exclusive first, then general lanes."""
    limits = [rank for rank, p in enumerate(PRIORITIES) for _ in range(config.reserve.get(p, 0))]
    exclusive = sum(1 for rank in limits if rank < LOWEST_RANK)
    if len(limits) > config.lanes or exclusive >= config.lanes:
        raise ValueError(
            f"accelerator.reserve: {len(limits)} of {config.lanes} lanes reserved;"
            " leave at least one lane that takes every class (or add lanes)"
        )
    return limits + [LOWEST_RANK] * (config.lanes - len(limits))


@runtime_checkable
class Rethreadable(Protocol):
    """A model handle that can make the same version with another interpreter thread count."""

    def with_threads(self, threads: int | None) -> ModelHandle: ...


class AcceleratorService:
    def __init__(
        self,
        config: AcceleratorConfig,
        models: Mapping[str, ModelHandle] | None = None,
        clock: Callable[[], float] = time.monotonic,
        *,
        stop_timeout_s: float = STOP_TIMEOUT_S,
    ) -> None:
        self.config = config
        self._clock = clock
        self._stop_timeout_s = stop_timeout_s
        policy: QueuePolicy[Token] = (
            PriorityPolicy(config.queue_bounds) if config.policy == "priority" else FifoPolicy(config.queue_bounds)
        )
        self._dispatcher = Dispatcher(
            policy, lane_limits(config), models or {}, clock, hold=config.reserved_alone,
            anticipate=config.anticipate and config.policy == "priority",
        )  # fmt: skip
        self._accounts: dict[str, StreamAccount] = {}
        self._failures = FailureLog()
        self.watchdog = Watchdog(config.watchdog)
        self.reports: dict[str, Callable[[], dict[str, Any]]] = {}  # more figures for the snapshot (e.g. thermal)
        self._watching: asyncio.Task[None] | None = None  # the watchdog's task while the service is entered

    def register_stream(
        self,
        stream: str,
        priority: Priority,
        deadline_ms: float | None = None,
        *,
        min_share: float | None = None,
        max_wait_ms: float | None = None,
        stats: StreamStats | None = None,
        supersede: bool = True,
    ) -> StreamStats:
        """Declare how a stream is scheduled (again: to change it). Drops and latencies go to `stats`.

        `supersede=False` for a back-pressured source (a file): its every job runs, a newer one waits behind."""
        rule = StreamRule.make(stream, priority, deadline_ms, min_share, max_wait_ms, supersede=supersede)
        with self._dispatcher.lock:
            self._dispatcher.policy.add_stream(stream, rule)
        account = self._accounts.get(stream)
        if account is None:
            account = self._accounts[stream] = StreamAccount(stream, rule, stats or StreamStats(stream))
        account.rule = rule
        if stats is not None:
            account.stats = stats
        return account.stats

    def remove_streams(self, keep: Collection[str]) -> list[str]:
        """Forget every stream not in `keep` (a reload removed it, or a cascade slot its stream no longer has): its
        rule, its books, its part of the `min_share` total. One with a job still in flight is kept until a later
        call. Returns the streams forgotten."""
        gone = [s for s in list(self._accounts) if s not in keep and self._dispatcher.remove_stream(s)]
        for stream in gone:
            del self._accounts[stream]
        return gone

    def set_model(self, name: str, handle: ModelHandle) -> None:
        """Add a model, or swap it: jobs on a lane finish on the old runner, the next get the new handle's."""
        self._dispatcher.set_model(name, handle)

    def use_lanes(self, count: int | None) -> None:
        """Run new jobs on only `count` lanes (None: all); reserved lanes are kept first (thermal: fewer lanes)."""
        self._dispatcher.use_lanes(count)

    def use_threads(self, threads: int | None) -> None:
        """Interpreters of at most `threads` threads (None: as configured), through the model-swap path: each lane
        makes a fresh runner after its job in hand (thermal: fewer threads). Other handles are left alone."""
        for name, handle in list(self._dispatcher.models.items()):
            if isinstance(handle, Rethreadable):
                self.set_model(name, handle.with_threads(threads))

    def model(self, name: str) -> ModelHandle:
        try:
            return self._dispatcher.models[name]
        except KeyError:
            raise KeyError(f"no model {name!r} in the accelerator service") from None

    def submit(self, job: Job) -> asyncio.Future[Outcome]:
        """Queue a job (call on the loop; never blocks). The future resolves to Completed or Dropped."""
        account = self._accounts.get(job.stream)
        if account is None:
            raise ValueError(f"stream {job.stream!r} is not registered with the accelerator service")
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        account.submitted += 1
        if self._dispatcher.stopped:
            account.dropped(SHUTDOWN)
            future.set_result(Dropped(SHUTDOWN, "the accelerator service has stopped"))
            return future
        now = self._clock()
        if self.watchdog.blocked(job.model, now):
            account.dropped(ERROR)
            future.set_result(Dropped(ERROR, _backing_off(job.model)))
            return future
        refused = self._dispatcher.submit(job, future, now)
        if refused:
            self._apply(refused)
        return future

    def submit_from_thread(self, job: Job, token: Settle) -> None:
        """`submit` from any thread (a capture thread), with no hop through the loop: the job goes to the queue or
        a waiting lane at once. `token` is resolved on the loop like every outcome: a refusal (the service has
        stopped, the model backs off, the policy drops it) reaches the loop with the lanes' reports."""
        if job.stream not in self._accounts:
            raise ValueError(f"stream {job.stream!r} is not registered with the accelerator service")
        now = self._clock()
        refusal = (ERROR, _backing_off(job.model)) if self.watchdog.blocked(job.model, now) else None
        self._dispatcher.submit_direct(job, token, now, refusal)

    def replace_from_thread(self, job: Job, token: Settle, swap: Callable[[Any], None]) -> bool:
        """From any thread: `job` takes the place of `token`'s job while that one is still queued (a newer frame
        superseding it, with no token settled for it: the caller counts the frame it replaced as `superseded`);
        `swap(job.frame)` runs under the dispatcher's lock when it does. False: that job has left the queue."""
        now = self._clock()
        if self.watchdog.blocked(job.model, now):
            return False  # `submit_from_thread` refuses it, counted
        return self._dispatcher.replace_direct(job, token, now, swap)

    async def __aenter__(self) -> AcceleratorService:
        """Start the lanes (once); the service serves until the `async with` block ends."""
        # lanes (and a direct submit after the stop) wake the loop; the dispatcher keeps the waker
        self._dispatcher.start(LoopWaker(asyncio.get_running_loop(), self._collect).wake)
        if self.config.watchdog.enabled:
            self._watching = asyncio.create_task(self._watch(), name="lane-watchdog")
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Stop: drop what is queued, let the lanes finish their jobs (up to the stop timeout), join them."""
        if self._watching is not None:
            self._watching.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watching
        await self._stop()

    async def _watch(self) -> None:
        """Every CHECK_EVERY_S: replace the lanes whose job has run past its model's limit; the job ends `stuck`."""
        while True:
            await asyncio.sleep(CHECK_EVERY_S)
            now = self._clock()
            floor_s = self.watchdog.config.floor_ms / 1e3
            for lane, assignment in self._dispatcher.replace_stuck(self.watchdog.limit_s, floor_s, now):
                ticket = assignment.ticket
                ran = now - (assignment.started or assignment.dispatched)
                detail = self.watchdog.stalled(ticket.job.model, lane.name, ran, now)
                self._drop(ticket, STUCK, detail)

    def snapshot(self) -> dict[str, Any]:
        reports, counts = self._dispatcher.collect_with_counts(list(self._accounts))
        self._apply(reports)
        return {
            "policy": self.config.policy,
            "threads": self.config.interpreter_threads,
            "queued": sum(figures[0] for figures in counts.values()),
            "streams": {name: a.snapshot(*counts[name]) for name, a in self._accounts.items()},
            "lanes": [lane.snapshot() for lane in self._dispatcher.lanes],
            "watchdog": self.watchdog.snapshot(),
            **{name: report() for name, report in self.reports.items()},
        }

    def _collect(self) -> None:
        """On the loop: settle what the lanes reported since the last call."""
        self._apply(self._dispatcher.collect())

    def _apply(self, reports: Sequence[Report]) -> None:
        for report in reports:
            if isinstance(report, Finished):
                self._finished(report)
            elif report.reason == ERROR:
                self._failed(report.ticket, report.detail)
            else:
                self._drop(report.ticket, report.reason, report.detail)

    def _finished(self, report: Finished) -> None:
        lane, assignment, output = report.lane, report.assignment, report.output
        ticket = assignment.ticket
        lane.jobs += 1
        lane.busy_s += report.service
        if isinstance(output, Exception):
            lane.errors += 1
            self._failed(ticket, f"runner failed: {type(output).__name__}: {output}")
            return
        queue_wait = assignment.dispatched - ticket.t_submit
        self.watchdog.served(ticket.job.model, report.service)
        self._accounts[ticket.job.stream].done(queue_wait, report.service)
        _resolve(ticket.token, Completed(output[0], output[1], assignment.handle.ref, queue_wait, report.service))

    def _failed(self, ticket: Ticket[Token], what: str) -> None:
        self._failures.report(ticket.job.stream, ticket.job.model, what, self._clock())
        self._drop(ticket, ERROR, what)

    def _drop(self, ticket: Ticket[Token], reason: str, detail: str = "") -> None:
        self._accounts[ticket.job.stream].dropped(reason)
        _resolve(ticket.token, Dropped(reason, detail))

    async def _stop(self) -> None:
        for ticket in self._dispatcher.stop():
            self._drop(ticket, SHUTDOWN, "queued at stop")
        await asyncio.to_thread(_join_all, self._dispatcher.lanes, self._stop_timeout_s)
        stuck, reports = self._dispatcher.abandon()
        self._apply(reports)
        for ticket in stuck:  # still running after the wait: resolve now, the daemon thread is abandoned
            log.warning("stream %r model %r still running at stop", ticket.job.stream, ticket.job.model)
            self._drop(ticket, SHUTDOWN, "still running at stop")


def _backing_off(model: str) -> str:
    return f"model {model!r} is unhealthy (stuck lanes); backing off"


def _resolve(future: Token, outcome: Outcome) -> None:
    if not future.done():  # the submitter may have cancelled it; the outcome is counted all the same
        future.set_result(outcome)


def _join_all(lanes: list[Lane], timeout: float) -> None:
    end = time.monotonic() + timeout
    for lane in lanes:
        lane.join(max(0.0, end - time.monotonic()))
