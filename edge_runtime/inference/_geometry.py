"""Fitting a frame into the model input (stretch, letterbox, crop) and mapping boxes back to the frame."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

import cv2
import numpy as np

from edge_runtime.frames import Image
from edge_runtime.inference._interpreter import FloatArray

Resize = Literal["stretch", "letterbox", "crop"]


@dataclass(frozen=True, slots=True)
class Geometry:
    """Input-normalized ``x`` maps to frame-normalized ``(x - offset_x) / scale_x`` (same for y)."""

    offset_x: float = 0.0
    offset_y: float = 0.0
    scale_x: float = 1.0
    scale_y: float = 1.0

    def to_original(self, boxes: FloatArray) -> FloatArray:
        """Normalized ``[x0, y0, x1, y1]`` on the model input -> on the original frame, clipped to [0, 1]."""
        offset = np.array([self.offset_x, self.offset_y] * 2, dtype=np.float32)
        scale = np.array([self.scale_x, self.scale_y] * 2, dtype=np.float32)
        out: FloatArray = np.clip((boxes - offset) / scale, 0.0, 1.0).astype(np.float32)
        return out

    def points_to_original(self, points: FloatArray) -> FloatArray:
        """Normalized ``(x, y[, z])`` points on the model input -> on the original frame (not clipped)."""
        out = points.astype(np.float32, copy=True)
        out[:, 0] = (out[:, 0] - self.offset_x) / self.scale_x
        out[:, 1] = (out[:, 1] - self.offset_y) / self.scale_y
        if out.shape[1] > 2:
            out[:, 2] /= self.scale_x
        return out


def _interpolation(src: tuple[int, int], dst: tuple[int, int]) -> int:
    return cv2.INTER_AREA if dst[0] < src[0] and dst[1] < src[1] else cv2.INTER_LINEAR


def fit(image: Image, size: tuple[int, int], mode: Resize, pad_value: int) -> tuple[Image, Geometry]:
    """Resize ``image`` (HxWxC) to ``size`` (width, height) by ``mode``; returns the new image and its geometry."""
    height, width = image.shape[:2]
    out_w, out_h = size
    if mode == "stretch" or (width, height) == (out_w, out_h):
        resized = cast(Image, cv2.resize(image, size, interpolation=_interpolation((width, height), size)))
        return resized, Geometry()
    if mode == "letterbox":
        scale = min(out_w / width, out_h / height)
        new_w, new_h = max(1, round(width * scale)), max(1, round(height * scale))
        pad_x, pad_y = (out_w - new_w) // 2, (out_h - new_h) // 2
        canvas = np.full((out_h, out_w, *image.shape[2:]), pad_value, dtype=np.uint8)
        canvas[pad_y : pad_y + new_h, pad_x : pad_x + new_w] = cv2.resize(
            image, (new_w, new_h), interpolation=_interpolation((width, height), (new_w, new_h))
        ).reshape(new_h, new_w, *image.shape[2:])
        return canvas, Geometry(pad_x / out_w, pad_y / out_h, new_w / out_w, new_h / out_h)
    scale = max(out_w / width, out_h / height)
    new_w, new_h = max(out_w, round(width * scale)), max(out_h, round(height * scale))
    crop_x, crop_y = (new_w - out_w) // 2, (new_h - out_h) // 2
    big = cv2.resize(image, (new_w, new_h), interpolation=_interpolation((width, height), (new_w, new_h)))
    cropped: Image = np.ascontiguousarray(big[crop_y : crop_y + out_h, crop_x : crop_x + out_w])
    return cropped, Geometry(-crop_x / out_w, -crop_y / out_h, new_w / out_w, new_h / out_h)
