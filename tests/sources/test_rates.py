"""Backoff and rate limits, on given timestamps (no sleeping)."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from edge_runtime.sources import Backoff
from edge_runtime.sources._pacing import RateCap


def test_backoff_doubles_with_jitter_up_to_the_cap_and_resets() -> None:
    backoff = Backoff(0.5, 30.0, random.Random(7))
    delays = [backoff.next() for _ in range(12)]
    ceilings = [min(30.0, 0.5 * 2**i) for i in range(12)]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert max(delays) <= 30.0
    assert len(set(delays)) == len(delays)  # jittered
    backoff.reset()
    assert backoff.next() <= 0.5


@given(
    fps=st.floats(min_value=1, max_value=60),
    input_fps=st.floats(min_value=1, max_value=240),
    seconds=st.integers(min_value=2, max_value=20),
)
def test_rate_cap_admits_about_fps_from_a_faster_source(fps: float, input_fps: float, seconds: int) -> None:
    cap = RateCap(fps)
    times = [i / input_fps for i in range(int(seconds * input_fps))]
    admitted = sum(cap.admit(t) for t in times)
    expected = min(fps, input_fps) * seconds
    assert admitted <= expected * 1.12 + 1  # never much more than asked
    if input_fps >= 2 * fps:
        assert admitted >= expected * 0.9 - 1  # and not much less when there is plenty to choose from


def test_no_cap_admits_everything() -> None:
    cap = RateCap(None)
    assert all(cap.admit(t / 1000) for t in range(100))
