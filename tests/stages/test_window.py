from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from edge_runtime.results import Result
from edge_runtime.stages import WindowConfig, WindowStage, build_stage
from tests.stages.support import classification, derived, det, detections, reading

BOX = (0.1, 0.1, 0.2, 0.2)


def make(**options: Any) -> WindowStage:
    stage = build_stage(WindowConfig(type="window", **options), "porch")
    assert isinstance(stage, WindowStage)
    return stage


def spans(results: list[Result]) -> list[tuple[float, float]]:
    return [(r.payload["start"], r.payload["end"]) for r in results]


def test_tumbling_counts_per_label_and_closes_after_grace() -> None:
    stage = make(size_s=10, name="counts")
    first = detections(1, 100.5, det("person", 0.6, BOX))
    assert stage.process(first) == [first]
    stage.process(detections(2, 101.0, det("person", 0.9, BOX), det("person", 0.5, BOX), det("cat", 0.7, BOX)))
    stage.process(detections(3, 109.9))
    stage.process(detections(4, 110.0, det("car", 0.8, BOX)))
    assert stage.tick(110.4) == []
    (window,) = stage.tick(110.5)
    assert (window.stream, window.seq, window.kind, window.ts_capture) == ("porch:counts", 1, "window", 110.0)
    assert window.payload == {
        "mode": "tumbling",
        "start": 100.0,
        "end": 110.0,
        "size_s": 10.0,
        "partial": False,
        "items": 3,
        "labels": {
            "cat": {"count": 1, "frames": 1, "max_score": 0.7},
            "person": {"count": 3, "frames": 2, "max_score": 0.9},
        },
        "values": {},
    }
    assert stage.tick(111.0) == []


def test_late_items_are_counted_not_added() -> None:
    stage = make(size_s=10)
    stage.process(reading(1, 101.0, t=1.0))
    stage.tick(111.0)
    stage.process(reading(2, 105.0, t=2.0))
    assert stage.drops.snapshot() == {"late": 1}
    assert stage.flush() == []


def test_flush_emits_open_windows_as_partial() -> None:
    stage = make(size_s=10)
    stage.process(reading(1, 101.0, t=1.0))
    stage.process(reading(2, 111.0, t=2.0))
    flushed = stage.flush()
    assert spans(flushed) == [(100.0, 110.0), (110.0, 120.0)]
    assert [w.payload["partial"] for w in flushed] == [True, True]
    assert [w.seq for w in flushed] == [1, 2]


def test_reading_statistics() -> None:
    stage = make(size_s=60)
    for i in range(20):
        stage.process(reading(i, 120.0 + i, temp=float(i + 1), hum=50.0))
    (window,) = stage.tick(200.0)
    assert window.payload["values"] == {
        "hum": {"count": 20, "mean": 50.0, "min": 50.0, "max": 50.0, "p95": 50.0},
        "temp": {"count": 20, "mean": 10.5, "min": 1.0, "max": 20.0, "p95": 19.0},
    }


def test_classification_counts_the_top_class() -> None:
    stage = make(size_s=10)
    stage.process(classification(1, 100.0, ("dog", 0.3), ("cat", 0.6)))
    stage.process(classification(2, 101.0, ("dog", 0.8), ("cat", 0.1)))
    (window,) = stage.tick(120.0)
    assert window.payload["labels"] == {
        "cat": {"count": 1, "frames": 1, "max_score": 0.6},
        "dog": {"count": 1, "frames": 1, "max_score": 0.8},
    }


def test_sliding_windows_overlap() -> None:
    stage = make(mode="sliding", size_s=10, hop_s=5, grace_s=0)
    stage.process(reading(1, 107.0, v=1.0))
    stage.process(reading(2, 112.0, v=2.0))
    closed = stage.tick(120.0)
    assert spans(closed) == [(100.0, 110.0), (105.0, 115.0), (110.0, 120.0)]
    assert [w.payload["items"] for w in closed] == [1, 2, 1]


def test_emit_empty_starts_at_the_first_tick() -> None:
    stage = make(size_s=1, emit_empty=True)
    assert stage.tick(100.0) == []
    closed = stage.tick(103.6)
    assert spans(closed) == [(99.0, 100.0), (100.0, 101.0), (101.0, 102.0), (102.0, 103.0)]
    assert all(w.payload["items"] == 0 for w in closed)


def test_without_emit_empty_quiet_windows_are_skipped() -> None:
    stage = make(size_s=1)
    stage.tick(100.0)
    stage.process(reading(1, 101.5, v=1.0))
    assert spans(stage.tick(110.0)) == [(101.0, 102.0)]


def test_forward_off_keeps_only_windows() -> None:
    stage = make(size_s=1, forward=False)
    assert stage.process(reading(1, 100.2, v=1.0)) == []
    source = Result("porch:tracker", 1, 100.0, 100.0, 100.0, "event", {"type": "new"})
    assert stage.process(source) == [source]  # kinds it does not consume always pass
    assert len(derived(stage.tick(102.0))) == 1


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"size_s": 0}, "greater than 0"),
        ({"size_s": 10, "hop_s": 5}, "sliding"),
        ({"size_s": 10, "mode": "sliding"}, "needs hop_s"),
        ({"size_s": 10, "mode": "sliding", "hop_s": 20}, "at most size_s"),
        ({"size_s": 10, "mode": "sliding", "hop_s": 0.001}, "at least"),
    ],
)
def test_bad_config_is_rejected(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        WindowConfig(type="window", **options)
