"""The priority policy: class first, earliest deadline within a class, with guards against starvation.

At every dispatch (`pop`), in this order:

1. Every queued job past its deadline is dropped as ``stale``; it never runs.
2. A stream with ``max_wait_ms`` that has been waiting longer than that goes next, ahead of higher classes
   (the most overdue first). Its wait counts from its first job queued since its last dispatch: a newer frame
   superseding an older one, or a stale drop, does not restart it, so a flooded stream cannot starve by churn.
3. A stream with ``min_share`` earns that much credit at each dispatch while it has a job queued; once its
   credit reaches 1 it goes next (and pays 1). So it gets at least ``min_share`` of the dispatches while it
   has work, whatever the higher classes offer.
4. Otherwise: the highest class with work, and in it the earliest deadline (arrival order on ties).

A lane reserved for a class (`limit`) only ever takes jobs of that class and above, guards included.
A newer job of the same stream and model replaces its queued older one (``superseded``), so a class holds at
most one job per stream and model; a class over its bound refuses the newcomer (``queue_full``). A stream
registered with ``supersede=False`` (a back-pressured source: every frame it offers must run) keeps that one
queued job too, but its newer jobs wait behind it, in order, instead of replacing it; their number is bounded by
the stream's own in-flight limit, not by the class bound.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from typing import Generic

from edge_runtime.drops import QUEUE_FULL, STALE, SUPERSEDED
from edge_runtime.jobs import Job
from edge_runtime.scheduler._tickets import LOWEST_RANK, Drop, StreamRule, T, Ticket, class_bounds, rule_for
from edge_runtime.sections import PRIORITIES, Priority

_EPSILON = 1e-9  # credit sums of shares like 0.1 land a hair under 1.0


def _edf(ticket: Ticket[T]) -> tuple[float, int]:
    return (ticket.deadline, ticket.order)


class PriorityPolicy(Generic[T]):
    """One queue per class, keyed by (stream, model); bounded per class."""

    def __init__(self, bounds: Mapping[Priority, int] | None = None) -> None:
        self._bounds = class_bounds(bounds)
        self._classes: list[dict[tuple[str, str], Ticket[T]]] = [{} for _ in PRIORITIES]
        self._rules: dict[str, StreamRule] = {}
        self._guarded: set[str] = set()  # streams with min_share or max_wait
        self._per_stream: Counter[str] = Counter()
        self._behind: dict[tuple[str, str], deque[Ticket[T]]] = {}  # supersede=False: the jobs after the queued one
        self._since: dict[str, float] = {}  # max_wait streams: waiting since (first job after last dispatch)
        self._credit: dict[str, float] = {}  # min_share streams: earned dispatches
        self._size = 0
        self._order = 0

    def add_stream(self, stream: str, rule: StreamRule) -> None:
        shares = sum(r.min_share or 0.0 for s, r in self._rules.items() if s != stream) + (rule.min_share or 0.0)
        if shares > 1.0 + _EPSILON:
            raise ValueError(f"stream {stream!r}: min_share of all streams adds up to {shares:g}, more than 1")
        self._rules[stream] = rule
        if rule.min_share is not None or rule.max_wait_s is not None:
            self._guarded.add(stream)
        else:
            self._guarded.discard(stream)

    def rank(self, stream: str) -> int:
        return rule_for(self._rules, stream).rank

    def remove_stream(self, stream: str) -> None:
        for state in (self._rules, self._per_stream, self._since, self._credit):
            state.pop(stream, None)
        self._guarded.discard(stream)

    def push(self, job: Job, token: T, now: float) -> list[Drop[T]]:
        rule = rule_for(self._rules, job.stream)
        self._order += 1
        deadline = job.frame.t_capture + rule.deadline_s
        ticket = Ticket(job, token, rule.rank, deadline, now, self._order)
        queue = self._classes[rule.rank]
        if not rule.supersede and ticket.key in queue:
            self._behind.setdefault(ticket.key, deque()).append(ticket)
        else:
            old = queue.pop(ticket.key, None)
            if old is None and len(queue) >= self._bounds[rule.rank]:
                return [(ticket, QUEUE_FULL)]
            queue[ticket.key] = ticket
            if old is not None:
                return [(old, SUPERSEDED)]
        self._size += 1
        self._per_stream[job.stream] += 1
        if rule.max_wait_s is not None:
            self._since.setdefault(job.stream, now)
        return []

    def replace(self, job: Job, token: T, now: float) -> bool:
        """`job` in the place of the queued job holding `token` (same stream and model), as a newer frame superseding
        it would be, the token kept; False when that job is not queued or the stream never supersedes."""
        rule = rule_for(self._rules, job.stream)
        queue = self._classes[rule.rank]
        old = queue.get((job.stream, job.model))
        if old is None or old.token is not token or not rule.supersede:
            return False
        self._order += 1
        queue[old.key] = Ticket(job, token, rule.rank, job.frame.t_capture + rule.deadline_s, now, self._order)
        return True

    def pop(self, now: float, limit: int = LOWEST_RANK) -> tuple[Ticket[T] | None, list[Drop[T]]]:
        drops = self._drop_stale(now)
        if not self._size:
            return None, drops
        ticket = self._guard_pick(now, limit) if self._guarded else None
        if ticket is None:
            ticket = self._earliest(limit)
        if ticket is not None:
            self._take(ticket, now)
        return ticket, drops

    def drain(self) -> list[Ticket[T]]:
        tickets = [t for queue in self._classes for t in queue.values()]
        tickets += [t for waiting in self._behind.values() for t in waiting]
        for queue in self._classes:
            queue.clear()
        self._behind.clear()
        self._per_stream.clear()
        self._size = 0
        return tickets

    def queued(self, stream: str) -> int:
        return self._per_stream[stream]

    def __len__(self) -> int:
        return self._size

    def _drop_stale(self, now: float) -> list[Drop[T]]:
        drops: list[Drop[T]] = []
        for queue in self._classes:
            while stale := [t for t in queue.values() if t.deadline < now]:  # again: a job behind may step up
                for ticket in stale:
                    self._remove(ticket)
                    drops.append((ticket, STALE))
        return drops

    def _earliest(self, limit: int) -> Ticket[T] | None:
        for queue in self._classes[: limit + 1]:
            if queue:
                return min(queue.values(), key=_edf)
        return None

    def _guard_pick(self, now: float, limit: int) -> Ticket[T] | None:
        """The most overdue max_wait job, else the min_share job owed a dispatch; credits min_share streams."""
        overdue: tuple[float, float, int, Ticket[T]] | None = None
        owed: dict[str, Ticket[T]] = {}
        for queue in self._classes[: limit + 1]:
            for ticket in queue.values():
                stream = ticket.job.stream
                if stream not in self._guarded:
                    continue
                rule = self._rules[stream]
                since = self._since.get(stream)
                if rule.max_wait_s is not None and since is not None and now - since > rule.max_wait_s:
                    due = (since + rule.max_wait_s, ticket.deadline, ticket.order, ticket)
                    overdue = due if overdue is None or due[:3] < overdue[:3] else overdue
                if rule.min_share is not None and (stream not in owed or _edf(ticket) < _edf(owed[stream])):
                    owed[stream] = ticket
        for stream in owed:
            self._credit[stream] = self._credit.get(stream, 0.0) + (self._rules[stream].min_share or 0.0)
        if overdue is not None:
            return overdue[3]
        if owed:
            stream = max(owed, key=self._credit.__getitem__)
            if self._credit[stream] >= 1.0 - _EPSILON:
                return owed[stream]
        return None

    def _take(self, ticket: Ticket[T], now: float) -> None:
        self._remove(ticket)
        stream = ticket.job.stream
        if stream in self._credit:
            self._credit[stream] = max(0.0, self._credit[stream] - 1.0)
        if stream in self._since:
            del self._since[stream]
            if self._per_stream[stream]:
                self._since[stream] = now

    def _remove(self, ticket: Ticket[T]) -> None:
        del self._classes[ticket.rank][ticket.key]
        self._size -= 1
        self._per_stream[ticket.job.stream] -= 1
        if self._behind and (waiting := self._behind.get(ticket.key)):
            following = waiting.popleft()  # the next job of a stream that never supersedes takes the place
            self._classes[following.rank][following.key] = following
            if not waiting:
                del self._behind[ticket.key]
