from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from edge_runtime.results import Result
from edge_runtime.stages import TrackerConfig, TrackerStage, build_stage
from tests.stages.support import classification, derived, det, detections

A = (0.10, 0.10, 0.30, 0.50)
A1 = (0.11, 0.10, 0.31, 0.50)
A2 = (0.12, 0.11, 0.32, 0.51)
FAR = (0.70, 0.70, 0.90, 0.90)


def make(**options: Any) -> TrackerStage:
    stage = build_stage(TrackerConfig(type="tracker", **options), "porch")
    assert isinstance(stage, TrackerStage)
    return stage


def run(stage: TrackerStage, frames: list[list[dict[str, Any]]]) -> list[Result]:
    out = []
    for i, dets in enumerate(frames):
        out += derived(stage.process(detections(i, 1.0 + i, *dets)))
    return out


def brief(events: list[Result]) -> list[tuple[str, int, float]]:
    return [(e.payload["type"], e.payload["track_id"], e.ts_capture) for e in events]


def test_lifecycle_new_update_end() -> None:
    stage = make(min_hits=2, max_missed=1, update_every=2)
    person = [det("person", s, box) for s, box in [(0.6, A), (0.7, A1), (0.9, A2), (0.8, A1)]]
    frames = [[person[0]], [person[1]], [person[2], det("car", 0.9, FAR)], [person[3]], [], []]
    events = run(stage, frames)
    assert brief(events) == [("new", 1, 2.0), ("update", 1, 4.0), ("end", 1, 6.0)]
    assert all((e.stream, e.kind) == ("porch:tracker", "event") for e in events)
    assert [e.seq for e in events] == [1, 2, 3]
    end = events[-1].payload
    assert end == {
        "type": "end",
        "track_id": 1,
        "label": "person",
        "score": 0.8,
        "box": list(A1),
        "first_seen": 1.0,
        "last_seen": 4.0,
        "frames": 4,
        "best_score": 0.9,
        "duration_s": 3.0,
        "first_box": list(A),
        "last_box": list(A1),
        "reason": "missed",
    }
    assert stage.open_tracks == 0  # the car was tentative and went silently


def test_labels_do_not_share_tracks_and_ids_are_stable() -> None:
    stage = make(min_hits=1, update_every=0)
    frames = [[det("person", 0.9, A), det("dog", 0.9, A1)]] * 3
    assert brief(run(stage, frames)) == [("new", 1, 1.0), ("new", 2, 1.0)]
    ends = stage.flush()
    assert sorted((e.payload["label"], e.payload["track_id"], e.payload["reason"]) for e in ends) == [
        ("dog", 2, "flush"),
        ("person", 1, "flush"),
    ]
    assert stage.flush() == []


def test_a_move_reports_an_update() -> None:
    stage = make(min_hits=1, update_every=0, update_min_iou=0.6)
    moved = (0.15, 0.10, 0.35, 0.50)  # IoU with A is 0.6 (joins the track), then 0.43 after a second step
    further = (0.20, 0.10, 0.40, 0.50)
    events = run(stage, [[det("person", 0.9, A)], [det("person", 0.9, moved)], [det("person", 0.9, further)]])
    assert brief(events) == [("new", 1, 1.0), ("update", 1, 3.0)]


def test_max_age_ends_tracks_on_tick() -> None:
    stage = make(min_hits=1, max_age_s=5.0)
    run(stage, [[det("person", 0.9, A)]])
    assert stage.tick(5.5) == []
    (end,) = stage.tick(6.0)
    assert (end.payload["type"], end.payload["reason"], end.t_capture > 0) == ("end", "max_age", True)


def test_max_tracks_bounds_open_tracks() -> None:
    stage = make(max_tracks=2)
    boxes = [(0.1 * i, 0.0, 0.1 * i + 0.05, 0.05) for i in range(5)]
    run(stage, [[det("x", 0.9, box) for box in boxes]])
    assert stage.open_tracks == 2
    assert stage.drops.snapshot() == {"too_many_tracks": 3}


def test_other_kinds_pass_through() -> None:
    source = classification(1, 1.0, ("dog", 0.9))
    assert make(forward=False).process(source) == [source]
    assert make(forward=False).process(detections(1, 1.0)) == []


def test_bad_config_is_rejected() -> None:
    with pytest.raises(ValidationError, match="iou_threshold"):
        TrackerConfig(type="tracker", iou_threshold=0)
