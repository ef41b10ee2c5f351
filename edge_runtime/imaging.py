"""Frames as pictures: detection boxes drawn on a frame, a crop around an object, JPEG under a size cap.

Written once for every part that shows frames: the console's frames (edge_runtime.http) and Home Assistant
snapshots. CPU work: call from a worker thread, never on the event loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import cv2
import numpy as np

from edge_runtime.frames import Image

BOX_COLOUR = (60, 220, 60)  # BGR
QUALITIES = (85, 70, 55, 40)  # tried in turn until the JPEG fits its cap


def pixel_box(box: Sequence[float], width: int, height: int) -> tuple[int, int, int, int]:
    """A normalized [x0, y0, x1, y1] box in pixels, clipped to the image."""
    x0, y0, x1, y1 = (round(float(v) * s) for v, s in zip(box, (width, height, width, height), strict=True))
    return max(0, x0), max(0, y0), min(width - 1, x1), min(height - 1, y1)


def annotate(image: Image, detections: Iterable[dict[str, Any]]) -> Image:
    """Boxes (normalized [x0, y0, x1, y1]) with label, score and track id drawn in place."""
    h, w = image.shape[:2]
    for det in detections:
        box = det.get("box")
        if not isinstance(box, list) or len(box) != 4:
            continue
        x0, y0, x1, y1 = pixel_box(box, w, h)
        cv2.rectangle(image, (x0, y0), (x1, y1), BOX_COLOUR, 2)
        text = f"{det.get('label', '')} {float(det.get('score', 0)):.2f}"
        if "track_id" in det:
            text += f" #{det['track_id']}"
        cv2.putText(image, text, (x0, max(12, y0 - 4)), cv2.FONT_HERSHEY_SIMPLEX, 0.45, BOX_COLOUR, 1, cv2.LINE_AA)
    return image


def crop_around(image: Image, box: Sequence[float], margin: float = 0.5) -> Image:
    """The part of `image` around a normalized box, grown by `margin` of the box's size on every side."""
    h, w = image.shape[:2]
    x0, y0, x1, y1 = (float(v) for v in box)
    dx, dy = (x1 - x0) * margin, (y1 - y0) * margin
    px0, py0, px1, py1 = pixel_box([x0 - dx, y0 - dy, x1 + dx, y1 + dy], w, h)
    if px1 <= px0 or py1 <= py0:
        return image
    return np.ascontiguousarray(image[py0 : py1 + 1, px0 : px1 + 1])


def jpeg_within(image: Image, max_bytes: int) -> bytes | None:
    """The image as JPEG at the best quality that fits `max_bytes`; None when not even the lowest does."""
    for quality in QUALITIES:
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        if data.size <= max_bytes:
            return bytes(data.tobytes())
    return None
