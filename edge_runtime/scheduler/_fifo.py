"""The FIFO policy: one bounded queue in arrival order, the baseline the priority policy is measured against.

It does what a plain detector queue shared by all cameras does (Frigate's, for one): every job waits its turn,
nothing is superseded, nothing is dropped for age, classes and lane reserves are ignored. A job arriving at a
full queue is refused (``queue_full``); the bound is the sum of the per-class bounds.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Mapping
from typing import Generic

from edge_runtime.drops import QUEUE_FULL
from edge_runtime.jobs import Job
from edge_runtime.scheduler._tickets import LOWEST_RANK, Drop, StreamRule, T, Ticket, class_bounds, rule_for
from edge_runtime.sections import Priority


class FifoPolicy(Generic[T]):
    def __init__(self, bounds: Mapping[Priority, int] | None = None) -> None:
        self.capacity = sum(class_bounds(bounds))
        self._queue: deque[Ticket[T]] = deque()
        self._rules: dict[str, StreamRule] = {}
        self._per_stream: Counter[str] = Counter()
        self._order = 0

    def add_stream(self, stream: str, rule: StreamRule) -> None:
        self._rules[stream] = rule

    def rank(self, stream: str) -> int:
        return rule_for(self._rules, stream).rank

    def remove_stream(self, stream: str) -> None:
        self._rules.pop(stream, None)
        self._per_stream.pop(stream, None)

    def push(self, job: Job, token: T, now: float) -> list[Drop[T]]:
        rule = rule_for(self._rules, job.stream)
        self._order += 1
        deadline = job.frame.t_capture + rule.deadline_s
        ticket = Ticket(job, token, rule.rank, deadline, now, self._order)
        if len(self._queue) >= self.capacity:
            return [(ticket, QUEUE_FULL)]
        self._queue.append(ticket)
        self._per_stream[job.stream] += 1
        return []

    def replace(self, job: Job, token: T, now: float) -> bool:
        del job, token, now
        return False  # nothing is superseded

    def pop(self, now: float, limit: int = LOWEST_RANK) -> tuple[Ticket[T] | None, list[Drop[T]]]:
        del now, limit  # no stale drops, no reserves: arrival order only
        if not self._queue:
            return None, []
        ticket = self._queue.popleft()
        self._per_stream[ticket.job.stream] -= 1
        return ticket, []

    def drain(self) -> list[Ticket[T]]:
        tickets = list(self._queue)
        self._queue.clear()
        self._per_stream.clear()
        return tickets

    def queued(self, stream: str) -> int:
        return self._per_stream[stream]

    def __len__(self) -> int:
        return len(self._queue)
