"""Invariants of the tracker and the windows over random input."""

from __future__ import annotations

import math
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from edge_runtime.results import Result
from edge_runtime.stages import TrackerConfig, TrackerStage, WindowConfig, WindowStage
from tests.stages.support import derived, det, detections, reading

# Boxes on a coarse grid, so detections often overlap tracks and often do not.
CELL = st.integers(0, 3)
BOX = st.builds(lambda x, y, w: (x * 0.2, y * 0.2, x * 0.2 + 0.1 + w * 0.1, y * 0.2 + 0.3), CELL, CELL, CELL)
DETECTION = st.builds(det, st.sampled_from(["person", "car"]), st.floats(0.1, 1.0), BOX)
FRAMES = st.lists(st.lists(DETECTION, max_size=5), max_size=40)
FAST = settings(max_examples=150, deadline=None)


@FAST
@given(
    frames=FRAMES,
    min_hits=st.integers(1, 3),
    max_missed=st.integers(0, 3),
    update_every=st.integers(0, 3),
    max_age_s=st.sampled_from([None, 2.0]),
    ticks=st.sets(st.integers(0, 40)),
)
def test_every_new_gets_exactly_one_end(
    *,
    frames: list[list[dict[str, object]]],
    min_hits: int,
    max_missed: int,
    update_every: int,
    max_age_s: float | None,
    ticks: set[int],
) -> None:
    config = TrackerConfig(
        type="tracker", min_hits=min_hits, max_missed=max_missed, update_every=update_every, max_age_s=max_age_s
    )
    stage = TrackerStage(config, "porch")
    events: list[Result] = []
    for i, dets in enumerate(frames):
        events += derived(stage.process(detections(i, float(i), *dets)))
        if i in ticks:
            events += stage.tick(i + 0.5)
    events += stage.flush()
    assert stage.open_tracks == 0
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    lives: dict[int, list[str]] = defaultdict(list)
    for event in events:
        lives[event.payload["track_id"]].append(event.payload["type"])
    assert sorted(lives) == list(range(1, len(lives) + 1))  # ids unique, given in order, no gaps
    for types in lives.values():
        assert types[0] == "new"
        assert types[-1] == "end"
        assert set(types[1:-1]) <= {"update"}


TIMES = st.lists(st.floats(0.0, 100.0, allow_nan=False), max_size=60)


@FAST
@given(times=TIMES, size=st.sampled_from([1.0, 2.5, 10.0]), ticks=st.lists(st.floats(0.0, 120.0), max_size=10))
def test_tumbling_windows_count_every_item_once(times: list[float], size: float, ticks: list[float]) -> None:
    stage = WindowStage(WindowConfig(type="window", size_s=size, grace_s=0.5), "porch")
    windows: list[Result] = []
    clock = sorted(ticks)
    horizon = -math.inf  # windows that end at or before this are closed
    expected: dict[float, int] = defaultdict(int)  # window start -> items it must hold
    late = 0
    for i, ts in enumerate(sorted(times)):
        while clock and clock[0] <= ts:
            horizon = clock[0] - 0.5
            windows += stage.tick(clock.pop(0))
        stage.process(reading(i, ts, v=1.0))
        start = math.floor(ts / size) * size
        if start + size <= horizon:
            late += 1
        else:
            expected[start] += 1
    windows += stage.flush()
    assert stage.drops.snapshot().get("late", 0) == late
    assert {w.payload["start"]: w.payload["items"] for w in windows} == expected
    assert sum(w.payload["items"] for w in windows) + late == len(times)


@FAST
@given(
    times=TIMES,
    size_hop=st.sampled_from([(10.0, 5.0), (10.0, 2.5), (3.0, 1.0), (1.0, 0.3), (5.0, 5.0)]),
)
def test_sliding_windows_hold_exactly_the_items_in_range(times: list[float], size_hop: tuple[float, float]) -> None:
    size, hop = size_hop
    stage = WindowStage(WindowConfig(type="window", mode="sliding", size_s=size, hop_s=hop), "porch")
    for i, ts in enumerate(times):  # in any order: nothing closes before the flush
        stage.process(reading(i, ts, v=float(i)))
    windows = stage.flush()
    spans = [(w.payload["start"], w.payload["end"]) for w in windows]
    assert len(set(spans)) == len(spans)
    for window, (start, end) in zip(windows, spans, strict=True):
        inside = [i for i, t in enumerate(times) if start <= t < end]
        stats = window.payload["values"]["v"]
        assert window.payload["items"] == stats["count"] == len(inside) > 0
        assert abs(stats["mean"] * stats["count"] - sum(inside)) < 1e-6
        assert (stats["min"], stats["max"]) == (min(inside), max(inside))
    # no window that holds an item is missing: window k spans [k * hop, k * hop + size)
    for t in times:
        for k in range(math.floor((t - size) / hop), math.floor(t / hop) + 2):
            if k * hop <= t < k * hop + size:
                assert (k * hop, k * hop + size) in spans
