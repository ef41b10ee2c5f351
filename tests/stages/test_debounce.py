from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from edge_runtime.results import Result
from edge_runtime.stages import DebounceConfig, DebounceStage, build_stage
from tests.stages.support import classification, derived, det, detections, reading

BOX = (0.1, 0.1, 0.3, 0.3)


def make(**options: Any) -> DebounceStage:
    stage = build_stage(DebounceConfig(type="debounce", **options), "porch")
    assert isinstance(stage, DebounceStage)
    return stage


def feed(stage: DebounceStage, results: list[Result]) -> list[dict[str, Any]]:
    out = []
    for result in results:
        out += [r.payload for r in derived(stage.process(result))]
    return out


def test_change_only_reports_moves_of_at_least_delta() -> None:
    stage = make(delta=0.5)
    temps = [20.0, 20.2, 20.4, 20.5, 20.6, 19.9]
    changes = feed(stage, [reading(i, 100.0 + i, temp=t) for i, t in enumerate(temps)])
    assert changes == [
        {"key": "temp", "value": 20.0, "previous": None},
        {"key": "temp", "value": 20.5, "previous": 20.0},
        {"key": "temp", "value": 19.9, "previous": 20.5},
    ]


def test_change_only_watches_one_value_when_named() -> None:
    changes = feed(make(value="door"), [reading(1, 1.0, door=0.0, temp=3.0), reading(2, 2.0, door=0.0, temp=4.0)])
    assert changes == [{"key": "door", "value": 0.0, "previous": None}]


def test_hysteresis_does_not_flap_between_the_limits() -> None:
    stage = make(on_above=30.0, off_below=25.0)
    temps = [20.0, 31.0, 29.0, 26.0, 31.0, 24.0, 27.0, 24.5]
    changes = feed(stage, [reading(i, 100.0 + i, temp=t) for i, t in enumerate(temps)])
    assert changes == [
        {"key": "temp", "state": "on", "previous": "off", "value": 31.0},
        {"key": "temp", "state": "off", "previous": "on", "value": 24.0},
    ]


def test_presence_needs_frames_in_a_row() -> None:
    stage = make(label="person", on_frames=2, off_frames=3)
    seen = [True, False, True, True, True, False, False, True, False, False, False]
    results = [
        detections(i, 100.0 + i, *([det("person", 0.8, BOX)] if here else [det("cat", 0.9, BOX)]))
        for i, here in enumerate(seen)
    ]
    out = []
    for result in results:
        out += [(r.ts_capture, r.payload) for r in derived(stage.process(result))]
    assert out == [
        (103.0, {"key": "person", "state": "on", "previous": "off", "score": 0.8}),
        (110.0, {"key": "person", "state": "off", "previous": "on"}),
    ]


def test_presence_of_every_label_and_low_scores_do_not_count() -> None:
    stage = make(min_score=0.5)
    out = feed(stage, [classification(1, 1.0, ("dog", 0.9), ("cat", 0.2)), classification(2, 2.0, ("cat", 0.9))])
    assert [(c["key"], c["state"]) for c in out] == [("dog", "on"), ("dog", "off"), ("cat", "on")]


def test_min_interval_holds_a_change_until_a_tick() -> None:
    stage = make(min_interval_s=10.0)
    assert len(feed(stage, [reading(1, 100.0, v=1.0)])) == 1
    assert feed(stage, [reading(2, 101.0, v=2.0), reading(3, 102.0, v=3.0)]) == []
    assert stage.tick(105.0) == []
    (late,) = stage.tick(110.0)
    assert (late.kind, late.stream, late.seq) == ("change", "porch:debounce", 2)
    assert late.payload == {"key": "v", "value": 3.0, "previous": 1.0}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"on_above": 3.0}, "go together"),
        ({"on_above": 3.0, "off_below": 4.0}, "must not exceed"),
        ({"on_above": 3.0, "off_below": 2.0, "delta": 1.0}, "not both"),
        ({"on_frames": 0}, "greater than or equal to 1"),
    ],
)
def test_bad_config_is_rejected(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        DebounceConfig(type="debounce", **options)
