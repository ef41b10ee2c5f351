"""The priority policy, scenario by scenario (the properties are in test_policy_properties.py)."""

from __future__ import annotations

from typing import Any

import pytest

from edge_runtime.scheduler import LOWEST_RANK, PriorityPolicy, StreamRule, lane_limits
from edge_runtime.sections import AcceleratorConfig, Priority
from tests.scheduler.jobs import make_job


def policy_with(**streams: tuple[Priority, dict[str, Any]]) -> PriorityPolicy[str]:
    policy: PriorityPolicy[str] = PriorityPolicy()
    for name, (priority, options) in streams.items():
        policy.add_stream(name, StreamRule.make(name, priority, **options))
    return policy


def next_token(policy: PriorityPolicy[str], now: float, limit: int = LOWEST_RANK) -> str:
    ticket, _ = policy.pop(now, limit)
    assert ticket is not None
    return ticket.token


def test_a_newer_frame_supersedes_the_queued_one_of_its_stream_and_model() -> None:
    policy = policy_with(cam=("normal", {}))
    assert policy.push(make_job("cam", 1, 0.0), "1", 0.0) == []
    assert policy.push(make_job("cam", 1, 0.0, model="other"), "1-other", 0.0) == []
    [(old, reason)] = policy.push(make_job("cam", 2, 0.1), "2", 0.1)
    assert (old.token, reason) == ("1", "superseded")
    assert policy.queued("cam") == 2
    assert [next_token(policy, 0.2) for _ in range(2)] == ["1-other", "2"]


def test_a_back_pressured_stream_is_never_superseded_its_jobs_run_in_order() -> None:
    """A file source (registered with supersede=False): every job waits its turn behind the queued one."""
    policy: PriorityPolicy[str] = PriorityPolicy({"high": 1})
    policy.add_stream("file", StreamRule.make("file", "high", supersede=False))
    policy.add_stream("cam", StreamRule.make("cam", "high"))
    for seq in range(4):
        assert policy.push(make_job("file", seq, 0.0), f"f{seq}", 0.0) == []
    assert policy.queued("file") == len(policy) == 4
    [(refused, reason)] = policy.push(make_job("cam", 1, 0.0), "c1", 0.0)  # the class bound counts streams
    assert (refused.token, reason) == ("c1", "queue_full")
    assert [next_token(policy, 0.1) for _ in range(2)] == ["f0", "f1"]
    policy.push(make_job("file", 4, 0.0), "f4", 0.2)
    assert [next_token(policy, 0.3) for _ in range(3)] == ["f2", "f3", "f4"]
    assert len(policy) == policy.queued("file") == 0


def test_a_back_pressured_stream_with_a_deadline_drops_every_stale_job_it_queued() -> None:
    policy: PriorityPolicy[str] = PriorityPolicy()
    policy.add_stream("file", StreamRule.make("file", "high", deadline_ms=100, supersede=False))
    for seq in range(3):
        policy.push(make_job("file", seq, t_capture=float(seq)), f"f{seq}", 0.0)
    ticket, drops = policy.pop(1.5)  # f0 and f1 are past their deadline, f2 is not
    assert ticket is not None
    assert ticket.token == "f2"
    assert sorted(t.token for t, _ in drops) == ["f0", "f1"]
    policy.push(make_job("file", 3, 9.0), "f3", 9.0)
    policy.push(make_job("file", 4, 9.0), "f4", 9.0)
    assert sorted(t.token for t in policy.drain()) == ["f3", "f4"]
    assert len(policy) == 0


def test_the_stream_deadline_counts_from_capture_and_is_judged_at_dispatch() -> None:
    policy = policy_with(cam=("high", {"deadline_ms": 100}))
    policy.push(make_job("cam", 1, t_capture=10.0), "1", now=10.05)
    ticket, drops = policy.pop(10.1)  # exactly at the deadline: still runs
    assert ticket is not None
    assert ticket.token == "1"
    assert drops == []
    policy.push(make_job("cam", 2, t_capture=20.0), "2", now=20.0)
    ticket, drops = policy.pop(20.2)
    assert ticket is None
    assert [(t.token, r) for t, r in drops] == [("2", "stale")]


def test_a_class_over_its_bound_refuses_the_newcomer() -> None:
    policy: PriorityPolicy[str] = PriorityPolicy({"low": 1})
    for name in ("a", "b"):
        policy.add_stream(name, StreamRule.make(name, "low"))
    policy.push(make_job("a", 1, 0.0), "a1", 0.0)
    [(refused, reason)] = policy.push(make_job("b", 1, 0.0), "b1", 0.0)
    assert (refused.token, reason) == ("b1", "queue_full")
    assert len(policy) == 1


def test_a_lane_limit_keeps_lower_classes_out() -> None:
    policy = policy_with(alarm=("critical", {}), cam=("normal", {}))
    policy.push(make_job("cam", 1, 0.0), "cam", 0.0)
    assert policy.pop(0.0, limit=0) == (None, [])
    policy.push(make_job("alarm", 1, 0.0), "alarm", 0.0)
    assert next_token(policy, 0.0, limit=0) == "alarm"
    assert next_token(policy, 0.0) == "cam"


def test_max_wait_lets_a_low_frame_ahead_and_superseding_does_not_reset_the_wait() -> None:
    policy = policy_with(high=("high", {}), low=("low", {"max_wait_ms": 105}))
    served = []
    for n in range(36):
        now = n / 100
        policy.push(make_job("high", 0, now), "high", now)
        policy.push(make_job("low", 0, now), f"low@{now:.2f}", now)
        served.append(next_token(policy, now))
    assert [t for t in served if t != "high"] == ["low@0.11", "low@0.23", "low@0.35"]


def test_min_share_gives_a_low_stream_every_fourth_dispatch() -> None:
    policy = policy_with(high=("high", {}), low=("low", {"min_share": 0.25}))
    served = []
    for n in range(12):
        policy.push(make_job("high", n, n), "high", n)
        policy.push(make_job("low", n, n), "low", n)
        served.append(next_token(policy, n))
    assert served == ["high", "high", "high", "low"] * 3


def test_lane_limits_put_reserved_lanes_first() -> None:
    assert lane_limits(AcceleratorConfig(lanes=3, reserve={"high": 1, "critical": 1})) == [0, 1, LOWEST_RANK]
    assert lane_limits(AcceleratorConfig(lanes=1, reserve={"low": 1})) == [LOWEST_RANK]
    with pytest.raises(ValueError, match="leave at least one lane that takes every class"):
        lane_limits(AcceleratorConfig(lanes=1, reserve={"critical": 1}))


def test_an_unregistered_stream_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="stream 'ghost' is not registered"):
        PriorityPolicy[str]().push(make_job("ghost", 0, 0.0), "x", 0.0)
