from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from edge_runtime.stages import ThresholdConfig, ThresholdStage, build_stage
from tests.stages.support import derived, det, detections, reading

BOX = (0.1, 0.1, 0.3, 0.3)


def make(**options: Any) -> ThresholdStage:
    stage = build_stage(ThresholdConfig(type="threshold", **options), "porch")
    assert isinstance(stage, ThresholdStage)
    return stage


def test_band_alerts_with_cooldown_per_rule() -> None:
    stage = make(above=30.0, below=5.0, cooldown_s=10.0, value="temp")
    temps = [(100.0, 20.0), (101.0, 31.0), (102.0, 35.0), (103.0, 4.0), (111.0, 32.0), (112.0, 1.0)]
    alerts = []
    for i, (ts, temp) in enumerate(temps):
        alerts += [(r.ts_capture, r.payload) for r in derived(stage.process(reading(i, ts, temp=temp, other=99.0)))]
    assert alerts == [
        (101.0, {"rule": "above", "key": "temp", "value": 31.0, "limit": 30.0}),
        (103.0, {"rule": "below", "key": "temp", "value": 4.0, "limit": 5.0}),
        (111.0, {"rule": "above", "key": "temp", "value": 32.0, "limit": 30.0}),
    ]


def test_count_rule_on_detections() -> None:
    stage = make(label="person", min_score=0.5, min_count=2, cooldown_s=0)
    two = detections(1, 100.0, det("person", 0.9, BOX), det("person", 0.6, BOX), det("car", 0.9, BOX))
    weak = detections(2, 101.0, det("person", 0.9, BOX), det("person", 0.3, BOX))
    out = stage.process(two) + stage.process(weak)
    assert [r.seq for r in out if r.stream == "porch"] == [1, 2]  # forwarded
    (alert,) = derived(out)
    assert (alert.stream, alert.seq, alert.kind) == ("porch:threshold", 1, "alert")
    assert alert.payload == {"rule": "count", "key": "person", "value": 2, "limit": 2, "max_score": 0.9}


def test_readings_ignored_without_a_value_rule() -> None:
    stage = make(min_count=1, forward=False)
    assert stage.process(reading(1, 1.0, temp=1e9)) == []


@pytest.mark.parametrize(
    ("options", "message"),
    [({}, "needs a rule"), ({"above": 1.0, "below": 2.0}, "less than above"), ({"min_count": 0}, "greater")],
)
def test_bad_config_is_rejected(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ThresholdConfig(type="threshold", **options)
