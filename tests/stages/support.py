"""Small builders of the results stages consume."""

from __future__ import annotations

from typing import Any

from edge_runtime.results import Result

STREAM = "porch"


def det(label: str, score: float, box: tuple[float, float, float, float]) -> dict[str, Any]:
    return {"label": label, "score": score, "box": list(box), "class_id": 0}


def detections(seq: int, ts: float, *dets: dict[str, Any]) -> Result:
    return Result(STREAM, seq, ts, ts, ts, "detections", {"detections": list(dets)})


def classification(seq: int, ts: float, *classes: tuple[str, float]) -> Result:
    payload = {"classes": [{"label": label, "score": score, "class_id": i} for i, (label, score) in enumerate(classes)]}
    return Result(STREAM, seq, ts, ts, ts, "classification", payload)


def reading(seq: int, ts: float, **values: float) -> Result:
    return Result(STREAM, seq, ts, ts, ts, "reading", {"values": values})


def derived(results: list[Result]) -> list[Result]:
    """The results a stage made itself (not the ones it passed on)."""
    return [r for r in results if r.stream != STREAM]
