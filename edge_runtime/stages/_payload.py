"""Reading the payloads stages consume, tolerant of malformed entries (they are skipped and counted)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from edge_runtime.results import Result
from edge_runtime.stages._geometry import Box

DETECTIONS = "detections"
CLASSIFICATION = "classification"
READING = "reading"
LABELLED = frozenset({DETECTIONS, CLASSIFICATION})
MALFORMED = "malformed"  # drop reason: an entry of a payload without a usable label, score, box or value


@dataclass(frozen=True, slots=True)
class Detection:
    """One labelled hit: a detection (with a box) or a class of a classification (box None)."""

    label: str
    score: float
    box: Box | None
    raw: dict[str, Any]


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _box(value: Any) -> Box | None:
    if not isinstance(value, list | tuple) or len(value) != 4:
        return None
    numbers = [_number(v) for v in value]
    if any(n is None for n in numbers):
        return None
    x0, y0, x1, y1 = (n for n in numbers if n is not None)
    return (x0, y0, x1, y1)


def _hit(entry: Any, with_box: bool) -> Detection | None:
    if not isinstance(entry, dict) or not isinstance(entry.get("label"), str):
        return None
    score = _number(entry.get("score"))
    box = _box(entry.get("box")) if with_box else None
    if score is None or (with_box and box is None):
        return None
    return Detection(entry["label"], score, box, entry)


def hits(result: Result) -> tuple[list[Detection], int]:
    """The detections (or classes) of a labelled result, and how many entries were malformed."""
    with_box = result.kind == DETECTIONS
    raw = result.payload.get("detections" if with_box else "classes")
    if not isinstance(raw, list):
        return [], 1
    parsed = [_hit(entry, with_box) for entry in raw]
    good = [hit for hit in parsed if hit is not None]
    return good, len(parsed) - len(good)


def values(result: Result) -> tuple[dict[str, float], int]:
    """The finite numeric values of a reading, and how many were not numbers (or not finite)."""
    raw = result.payload.get("values")
    if not isinstance(raw, dict):
        return {}, 1
    good = {str(name): number for name, value in raw.items() if (number := _number(value)) is not None}
    return good, len(raw) - len(good)
