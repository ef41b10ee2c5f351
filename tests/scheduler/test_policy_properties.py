"""Properties of the pure queue policies, driven by hypothesis with a fake clock.

A reference model in the test tracks what should be queued; the policy must agree with it at every step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from edge_runtime.drops import QUEUE_FULL, STALE, SUPERSEDED
from edge_runtime.jobs import Job
from edge_runtime.scheduler import LOWEST_RANK, FifoPolicy, PriorityPolicy, StreamRule, Ticket
from edge_runtime.sections import PRIORITIES, Priority
from tests.scheduler.jobs import make_job

priorities = st.sampled_from(PRIORITIES)
deadlines_ms = st.one_of(st.none(), st.floats(1, 1000))
stream_rules = st.lists(st.tuples(priorities, deadlines_ms), min_size=1, max_size=5)
bounds = st.fixed_dictionaries({p: st.integers(1, 3) for p in PRIORITIES})
push = st.tuples(st.just("push"), st.integers(0, 4), st.integers(0, 1), st.floats(0, 0.05))
pop = st.tuples(st.just("pop"), st.integers(0, LOWEST_RANK))
tick = st.tuples(st.just("tick"), st.floats(0, 0.1))
operations = st.lists(st.tuples(st.lists(push, max_size=5), st.one_of(pop, tick)), min_size=3, max_size=30).map(
    lambda steps: [op for pushes, action in steps for op in (*pushes, action)]
)


@dataclass
class Entry:
    job: Job
    rank: int
    deadline: float


@dataclass
class Reference:
    """What the policy should hold: live entries by token, and the newest token per (stream, model)."""

    bounds: dict[Priority, int]
    live: dict[int, Entry] = field(default_factory=dict)
    newest: dict[tuple[str, str], int] = field(default_factory=dict)
    ended: dict[int, str] = field(default_factory=dict)

    def end(self, token: int, how: str) -> None:
        assert token not in self.ended, f"token {token} ended twice: {self.ended[token]} and {how}"
        self.ended[token] = how
        self.live.pop(token, None)

    def eligible(self, limit: int) -> list[Entry]:
        return [e for e in self.live.values() if e.rank <= limit]


def check_push(ref: Reference, token: int, entry: Entry, drops: list[tuple[Ticket[int], str]]) -> None:
    key = (entry.job.stream, entry.job.model)
    previous = ref.newest.get(key)
    same_class = sum(1 for e in ref.live.values() if e.rank == entry.rank)
    if previous in ref.live:
        assert [(t.token, r) for t, r in drops] == [(previous, SUPERSEDED)]
    elif same_class >= ref.bounds[PRIORITIES[entry.rank]]:
        assert [(t.token, r) for t, r in drops] == [(token, QUEUE_FULL)]
    else:
        assert drops == []
    for ticket, reason in drops:
        ref.end(ticket.token, reason)
    if token not in ref.ended:
        ref.live[token] = entry
        ref.newest[key] = token


def check_pop(
    ref: Reference, now: float, limit: int, ticket: Ticket[int] | None, drops: list[tuple[Ticket[int], str]]
) -> None:
    for dropped, reason in drops:
        assert reason == STALE
        assert ref.live[dropped.token].deadline < now
        ref.end(dropped.token, reason)
    assert all(e.deadline >= now for e in ref.live.values()), "a stale job stayed queued past a dispatch"
    eligible = ref.eligible(limit)
    if ticket is None:
        assert eligible == []
        return
    entry = ref.live[ticket.token]
    assert entry.rank <= limit, "a reserved lane took a lower class"
    assert entry.deadline >= now, "a stale job was dispatched"
    best = min((e.rank, e.deadline) for e in eligible)
    assert (entry.rank, entry.deadline) == best, "not the highest class, earliest deadline"
    assert ref.newest[(entry.job.stream, entry.job.model)] == ticket.token, "an older frame ran"
    ref.end(ticket.token, "ran")


@settings(max_examples=150, deadline=None)
@given(stream_rules, bounds, operations)
def test_priority_policy_order_supersede_stale_and_accounting(
    rules: list[tuple[Priority, float | None]], class_bounds: dict[Priority, int], ops: list[tuple[Any, ...]]
) -> None:
    policy: PriorityPolicy[int] = PriorityPolicy(class_bounds)
    ref = Reference(class_bounds)
    for i, (priority, deadline_ms) in enumerate(rules):
        policy.add_stream(f"s{i}", StreamRule.make(f"s{i}", priority, deadline_ms))
    now, pushed = 100.0, 0
    for op in ops:
        if op[0] == "tick":
            now += float(op[1])
        elif op[0] == "pop":
            limit = int(op[1])
            ticket, drops = policy.pop(now, limit)
            check_pop(ref, now, limit, ticket, drops)
        else:
            _, s, m, age = op
            index = int(s) % len(rules)
            priority, deadline_ms = rules[index]
            t_capture = now - float(age)
            job = make_job(f"s{index}", pushed, t_capture, model=f"m{m}")
            limit_s = deadline_ms / 1e3 if deadline_ms is not None else math.inf
            entry = Entry(job, PRIORITIES.index(priority), t_capture + limit_s)
            pushed += 1
            check_push(ref, pushed, entry, policy.push(job, pushed, now))
        assert len(policy) == len(ref.live)
    for ticket in policy.drain():
        ref.end(ticket.token, "drained")
    assert len(policy) == 0
    assert sorted(ref.ended) == list(range(1, pushed + 1)), "a job was lost or invented"


@settings(max_examples=100, deadline=None)
@given(
    waits=st.lists(st.tuples(st.sampled_from(["high", "normal", "low"]), st.integers(10, 300)), min_size=1, max_size=3),
    floods=st.lists(priorities, min_size=1, max_size=3),
    deadline_ms=st.one_of(st.none(), st.integers(5, 400)),
    step_ms=st.integers(1, 40),
)
def test_max_wait_bounds_the_gap_between_dispatches(
    waits: list[tuple[Priority, int]], floods: list[Priority], deadline_ms: int | None, step_ms: int
) -> None:
    """Every stream pushes a fresh frame each step and one lane takes one job per step: a max_wait stream is
    served within max_wait + (guarded streams + 1) steps, however busy the higher classes are."""
    policy: PriorityPolicy[str] = PriorityPolicy(dict.fromkeys(PRIORITIES, 8))
    guarded = {f"g{i}": w for i, (_, w) in enumerate(waits)}
    for i, (priority, wait_ms) in enumerate(waits):
        policy.add_stream(f"g{i}", StreamRule.make(f"g{i}", priority, deadline_ms, max_wait_ms=wait_ms))
    for i, priority in enumerate(floods):
        policy.add_stream(f"f{i}", StreamRule.make(f"f{i}", priority, deadline_ms))
    step = step_ms / 1e3
    last = dict.fromkeys(guarded, 0.0)
    for n in range(400):
        now = n * step
        for stream in [*guarded, *(f"f{i}" for i in range(len(floods)))]:
            policy.push(make_job(stream, n, now), stream, now)
        ticket, _ = policy.pop(now)
        assert ticket is not None
        if ticket.token in guarded:
            last[ticket.token] = now
        for stream, wait_ms in guarded.items():
            bound = wait_ms / 1e3 + (len(guarded) + 1) * step + 1e-9
            assert now - last[stream] <= bound, f"{stream} waited {now - last[stream]:.3f} s > {bound:.3f} s"


@settings(max_examples=100, deadline=None)
@given(
    shares=st.lists(st.tuples(st.sampled_from(["normal", "low"]), st.floats(0.05, 0.5)), min_size=1, max_size=3).filter(
        lambda s: sum(p for _, p in s) <= 1.0
    ),
    floods=st.lists(st.sampled_from(["critical", "high"]), min_size=1, max_size=3),
)
def test_min_share_holds_in_every_window(shares: list[tuple[Priority, float]], floods: list[Priority]) -> None:
    """Higher classes always have work; each min_share stream still gets its share of every window of pops."""
    policy: PriorityPolicy[str] = PriorityPolicy()
    for i, (priority, share) in enumerate(shares):
        policy.add_stream(f"g{i}", StreamRule.make(f"g{i}", priority, None, min_share=share))
    for i, priority in enumerate(floods):
        policy.add_stream(f"f{i}", StreamRule.make(f"f{i}", priority, None))
    streams = [f"g{i}" for i in range(len(shares))] + [f"f{i}" for i in range(len(floods))]
    picks: list[str] = []
    for n in range(200):
        for stream in streams:
            policy.push(make_job(stream, n, float(n)), stream, float(n))
        ticket, _ = policy.pop(float(n))
        assert ticket is not None
        picks.append(ticket.token)
    slack = len(shares) + 1
    for i, (_, share) in enumerate(shares):
        mine = [0]
        for token in picks:
            mine.append(mine[-1] + (token == f"g{i}"))
        for a in range(len(picks)):
            for b in range(a + 1, len(picks) + 1):
                assert mine[b] - mine[a] >= math.floor((b - a) * share) - slack


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.integers(0, 3), st.none()), max_size=60), st.integers(1, 5))
def test_fifo_keeps_arrival_order_bounded_and_accounts_everything(ops: list[int | None], bound: int) -> None:
    policy: FifoPolicy[int] = FifoPolicy(dict.fromkeys(PRIORITIES, bound))
    for s in range(4):
        policy.add_stream(f"s{s}", StreamRule.make(f"s{s}", PRIORITIES[s], 1.0))
    queued: list[int] = []
    ended: list[int] = []
    for token, op in enumerate(ops):
        if op is None:
            ticket, drops = policy.pop(1e9, 0)  # long past every deadline, most exclusive lane: fifo ignores both
            assert drops == []
            assert (ticket.token if ticket else None) == (queued.pop(0) if queued else None)
            ended += [ticket.token] if ticket else []
            continue
        drops = policy.push(make_job(f"s{op}", token, 0.0), token, 0.0)
        if len(queued) >= 4 * bound:
            assert [(t.token, r) for t, r in drops] == [(token, QUEUE_FULL)]
            ended.append(token)
        else:
            assert drops == []
            queued.append(token)
    ended += [t.token for t in policy.drain()]
    assert sorted(ended) == sorted(t for t, op in enumerate(ops) if op is not None)
