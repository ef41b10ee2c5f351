"""Crop geometry of a cascade: a detection's box -> the crop image, and the crop's results -> the whole frame.

A crop box is normalized to the frame and may reach past its edges (a square around a face at the border):
the part outside is padded black, so the mapping back stays one scale and one offset per axis.
"""

from __future__ import annotations

from typing import Any, cast

import cv2
import numpy as np

from edge_runtime.cascade._config import CropConfig
from edge_runtime.frames import Image

Box = tuple[float, float, float, float]


def crop_box(box: list[float], frame_shape: tuple[int, ...], crop: CropConfig) -> Box:
    """The detection's ``[x0, y0, x1, y1]`` grown by ``expand`` (and made square in pixels), on the frame."""
    height, width = frame_shape[:2]
    cx, cy = (box[0] + box[2]) / 2 * width, (box[1] + box[3]) / 2 * height
    w, h = (box[2] - box[0]) * width * (1 + crop.expand), (box[3] - box[1]) * height * (1 + crop.expand)
    if crop.square:
        w = h = max(w, h)
    w, h = max(w, 1.0), max(h, 1.0)
    return ((cx - w / 2) / width, (cy - h / 2) / height, (cx + w / 2) / width, (cy + h / 2) / height)


def cut(image: Image, box: Box) -> Image:
    """The pixels of ``box`` (padded black where it leaves the frame)."""
    height, width = image.shape[:2]
    x0, y0 = round(box[0] * width), round(box[1] * height)
    x1, y1 = max(x0 + 1, round(box[2] * width)), max(y0 + 1, round(box[3] * height))
    inner: Image = image[max(y0, 0) : min(y1, height), max(x0, 0) : min(x1, width)]
    if inner.size == 0:
        return np.zeros((y1 - y0, x1 - x0, *image.shape[2:]), np.uint8)
    pads = (max(0, -y0), max(0, y1 - height), max(0, -x0), max(0, x1 - width))
    if not any(pads):
        return np.ascontiguousarray(inner)
    return cast(Image, cv2.copyMakeBorder(inner, *pads, cv2.BORDER_CONSTANT, value=0))


def to_frame(kind: str, payload: dict[str, Any], box: Box) -> dict[str, Any]:
    """A crop's payload with its boxes and points mapped from the crop onto the whole frame."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    if kind == "detections":
        detections = [
            {**d, "box": _round([x0 + bx0 * w, y0 + by0 * h, x0 + bx1 * w, y0 + by1 * h])}
            for d in payload.get("detections", [])
            for bx0, by0, bx1, by1 in [d["box"]]
        ]
        return {**payload, "detections": detections}
    if kind == "landmarks":
        points = [_round([x0 + p[0] * w, y0 + p[1] * h, *(v * w for v in p[2:])]) for p in payload.get("points", [])]
        return {**payload, "points": points}
    return payload


def _round(values: list[float]) -> list[float]:
    return [round(float(v), 4) for v in values]
