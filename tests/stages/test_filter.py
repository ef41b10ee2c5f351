from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from edge_runtime.stages import FilterConfig, FilterStage, PostStageConfig, build_stage
from tests.stages.support import classification, det, detections, reading

ADAPTER: TypeAdapter[PostStageConfig] = TypeAdapter(PostStageConfig)


def make(**options: object) -> FilterStage:
    stage = build_stage(ADAPTER.validate_python({"type": "filter", **options}), "porch")
    assert isinstance(stage, FilterStage)
    return stage


def labels(stage: FilterStage, *dets: dict[str, object]) -> list[str]:
    (out,) = stage.process(detections(1, 100.0, *dets))
    return [d["label"] for d in out.payload["detections"]]


PERSON = det("person", 0.9, (0.4, 0.4, 0.6, 0.9))
CAT = det("cat", 0.4, (0.0, 0.0, 0.05, 0.05))
CAR = det("car", 0.8, (0.7, 0.1, 0.95, 0.3))


def test_min_score_and_label_lists() -> None:
    assert labels(make(min_score=0.5), PERSON, CAT, CAR) == ["person", "car"]
    assert labels(make(labels=["cat", "car"]), PERSON, CAT, CAR) == ["cat", "car"]
    assert labels(make(exclude=["car"]), PERSON, CAT, CAR) == ["person", "cat"]


def test_min_area_drops_small_boxes() -> None:
    assert labels(make(min_area=0.01), PERSON, CAT, CAR) == ["person", "car"]


def test_zone_as_box_tests_the_bottom_center() -> None:
    stage = make(zone=[0.3, 0.7, 0.7, 1.0])
    assert labels(stage, PERSON, CAT, CAR) == ["person"]  # person's feet (0.5, 0.9) are in; its center is not
    assert labels(make(zone=[0.3, 0.7, 0.7, 1.0], anchor="center"), PERSON, CAT, CAR) == []


def test_zone_as_polygon() -> None:
    triangle = [[0.5, 0.0], [1.0, 0.0], [1.0, 0.5]]
    assert labels(make(zone=triangle, anchor="center"), PERSON, CAT, CAR) == ["car"]


def test_result_keeps_identity_and_other_payload_keys() -> None:
    stage = make(min_score=0.5)
    source = detections(7, 100.0, PERSON, CAT)
    source.payload["inference_ms"] = 4.2
    (out,) = stage.process(source)
    assert (out.stream, out.seq, out.kind, out.payload["inference_ms"]) == ("porch", 7, "detections", 4.2)
    assert len(source.payload["detections"]) == 2  # the input is not edited in place


def test_empty_results_pass_unless_drop_empty() -> None:
    assert len(make(min_score=0.95).process(detections(1, 1.0, PERSON))) == 1
    stage = make(min_score=0.95, drop_empty=True)
    assert stage.process(detections(1, 1.0, PERSON)) == []
    assert stage.drops.snapshot() == {"filtered": 1}


def test_classification_and_readings() -> None:
    (out,) = make(min_score=0.5).process(classification(1, 1.0, ("dog", 0.7), ("wolf", 0.2)))
    assert [c["label"] for c in out.payload["classes"]] == ["dog"]
    source = reading(2, 1.0, temp=21.5)
    assert make(min_score=0.5).process(source) == [source]


def test_malformed_detections_are_dropped_and_counted() -> None:
    stage = make()
    (out,) = stage.process(detections(1, 1.0, PERSON, {"label": "x", "score": "high", "box": [0, 0, 1, 1]}))
    assert len(out.payload["detections"]) == 1
    assert stage.drops.snapshot() == {"malformed": 1}


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"min_score": 1.5}, "less than or equal to 1"),
        ({"zone": [[0, 0], [1, 1]]}, "at least 3"),
        ({"zone": [0, 0, 2, 1]}, "normalized"),
        ({"labels": ["a"], "lables": ["b"]}, "Extra inputs"),
        ({"name": "a/b"}, "pattern"),
    ],
)
def test_bad_config_is_rejected(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        ADAPTER.validate_python({"type": "filter", **options})


def test_name_defaults_to_type() -> None:
    assert FilterConfig(type="filter").name == "filter"
