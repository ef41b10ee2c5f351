"""What the queue policies hold: a stream's scheduling rule and a ticket per queued job.

A policy is pure: no threads, no asyncio, and time is passed in (`now`, seconds on the clock the jobs were
stamped with), so property tests drive it with a fake clock. A ticket carries an opaque `token` for its owner
(the accelerator service keeps the job's future there).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from edge_runtime.jobs import Job
from edge_runtime.sections import PRIORITIES, AcceleratorConfig, Priority

T = TypeVar("T")
LOWEST_RANK = len(PRIORITIES) - 1  # a lane with this limit takes every class
_DEFAULT_BOUNDS = AcceleratorConfig().queue_bounds


def class_bounds(bounds: Mapping[Priority, int] | None) -> list[int]:
    """Queue bound per class rank; a class the config leaves out keeps its default bound."""
    given = bounds or {}
    return [given.get(p, _DEFAULT_BOUNDS[p]) for p in PRIORITIES]


def rule_for(rules: Mapping[str, StreamRule], stream: str) -> StreamRule:
    try:
        return rules[stream]
    except KeyError:
        raise ValueError(f"stream {stream!r} is not registered with the accelerator service") from None


@dataclass(frozen=True, slots=True)
class StreamRule:
    """How one stream is scheduled. Build it with `StreamRule.make`, which checks the values."""

    priority: Priority
    rank: int  # 0 = critical ... 3 = low
    deadline_s: float  # max age at dispatch, from the job's t_capture; math.inf for none
    min_share: float | None  # fraction of dispatches guaranteed to this stream while it has work queued
    max_wait_s: float | None  # waiting longer than this puts the stream's job ahead of higher classes
    supersede: bool = True  # False for a back-pressured source (a file): its newer jobs wait behind, none is lost

    @classmethod
    def make(
        cls,
        stream: str,
        priority: Priority,
        deadline_ms: float | None = None,
        min_share: float | None = None,
        max_wait_ms: float | None = None,
        *,
        supersede: bool = True,
    ) -> StreamRule:
        where = f"stream {stream!r}"
        if priority not in PRIORITIES:
            raise ValueError(f"{where}: priority must be one of {', '.join(PRIORITIES)} (got {priority!r})")
        if deadline_ms is not None and not deadline_ms > 0:
            raise ValueError(f"{where}: deadline_ms must be > 0 (got {deadline_ms})")
        if min_share is not None and not 0 < min_share <= 1:
            raise ValueError(f"{where}: min_share must be in (0, 1] (got {min_share})")
        if max_wait_ms is not None and not max_wait_ms > 0:
            raise ValueError(f"{where}: max_wait_ms must be > 0 (got {max_wait_ms})")
        return cls(
            priority=priority,
            rank=PRIORITIES.index(priority),
            deadline_s=deadline_ms / 1e3 if deadline_ms is not None else math.inf,
            min_share=min_share,
            max_wait_s=max_wait_ms / 1e3 if max_wait_ms is not None else None,
            supersede=supersede,
        )


@dataclass(slots=True, eq=False)
class Ticket(Generic[T]):
    """One queued job. Compared by identity; `order` breaks ties in arrival order."""

    job: Job
    token: T
    rank: int
    deadline: float  # the frame's capture time + the stream's deadline (math.inf for none)
    t_submit: float
    order: int

    @property
    def key(self) -> tuple[str, str]:
        """A newer job with the same key supersedes this one: one queued frame per stream and model."""
        return (self.job.stream, self.job.model)


Drop = tuple[Ticket[T], str]  # a ticket leaving the queue unrun, and the reason (edge_runtime.drops)


class QueuePolicy(Protocol[T]):
    """Decides which queued job a free lane runs next, and which jobs are dropped (and why)."""

    def add_stream(self, stream: str, rule: StreamRule) -> None: ...

    def remove_stream(self, stream: str) -> None:
        """Forget a stream that has no job queued (a reload removed it)."""
        ...

    def rank(self, stream: str) -> int:
        """The stream's class, as a rank (0 = critical)."""
        ...

    def push(self, job: Job, token: T, now: float) -> list[Drop[T]]:
        """Queue a job; returns what left the queue because of it (the superseded one, or this one if full)."""
        ...

    def replace(self, job: Job, token: T, now: float) -> bool:
        """Put `job` in the place of the queued job that holds `token`, keeping the token, when a newer job would
        supersede that one (nothing is returned for it: the caller counts it); False otherwise."""
        ...

    def pop(self, now: float, limit: int = LOWEST_RANK) -> tuple[Ticket[T] | None, list[Drop[T]]]:
        """The job a lane taking classes up to rank `limit` runs now (None: nothing for it), and the drops."""
        ...

    def drain(self) -> list[Ticket[T]]:
        """Empty the queue (at shutdown), returning what was queued."""
        ...

    def queued(self, stream: str) -> int: ...

    def __len__(self) -> int: ...
