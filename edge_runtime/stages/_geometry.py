"""Normalized boxes and zones: area, overlap, anchor points and point-in-polygon."""

from __future__ import annotations

from typing import Literal

Box = tuple[float, float, float, float]  # x0, y0, x1, y1, normalized to 0..1
Point = tuple[float, float]
Anchor = Literal["center", "bottom"]


def area(box: Box) -> float:
    """The area of a box; a degenerate (inverted) box has area 0."""
    x0, y0, x1, y1 = box
    return max(0.0, x1 - x0) * max(0.0, y1 - y0)


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two boxes, 0 when either is empty."""
    inter = area((max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])))
    union = area(a) + area(b) - inter
    return inter / union if union > 0 else 0.0


def anchor(box: Box, where: Anchor) -> Point:
    """The point of a box tested against a zone: its center, or the middle of its bottom edge (the feet)."""
    x0, y0, x1, y1 = box
    cx = (x0 + x1) / 2
    return (cx, (y0 + y1) / 2) if where == "center" else (cx, y1)


def inside(point: Point, polygon: tuple[Point, ...]) -> bool:
    """Even-odd rule: whether a point lies inside a simple polygon (points on an edge may go either way)."""
    x, y = point
    result = False
    j = len(polygon) - 1
    for i, (xi, yi) in enumerate(polygon):
        xj, yj = polygon[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            result = not result
        j = i
    return result


def box_corners(box: Box) -> tuple[Point, ...]:
    """A box as the polygon of its four corners."""
    x0, y0, x1, y1 = box
    return ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
