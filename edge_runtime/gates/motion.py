"""The `motion` gate: run the model only on frames where something moved (or every `interval` regardless).

On a downscaled grey frame (OpenCV): a running background (`accumulateWeighted`), the pixels that differ by
more than `threshold` both from the background and from the previous frame (so a scene that has just become
still again is still at once), restricted to `zones` minus `mask`, then contours of at least `contour_area`.
"""

from __future__ import annotations

from typing import Literal, cast

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import Field, field_validator

from cloud_sync.config import OptionalDuration
from edge_runtime.frames import Frame
from edge_runtime.gates._base import Gate
from edge_runtime.sections import StrictModel

Polygon = list[tuple[float, float]]
Grey = npt.NDArray[np.uint8]


class MotionGateConfig(StrictModel):
    """Motion detection before `infer`; zones and masks are polygons of [x, y] in 0..1 of the frame."""

    type: Literal["motion"]
    name: str = Field("motion", description="Unique name of this stage within the pipeline.")
    width: int = Field(160, ge=16, le=1920, description="Width of the grey frame motion is measured on.")
    threshold: int = Field(25, ge=1, le=254, description="Grey-level change (0..255) for a pixel to count as moved.")
    contour_area: int = Field(
        10, ge=1, description="Smallest moving blob, in pixels of the downscaled frame, that opens the gate."
    )
    learning_rate: float = Field(0.1, gt=0, le=1, description="How fast the background follows the scene.")
    zones: list[Polygon] | None = Field(None, description="Only motion inside these polygons counts.")
    mask: list[Polygon] = Field(default_factory=list, description="Motion inside these polygons never counts.")
    interval: OptionalDuration = Field(
        None, gt=0, description="Run the model at least this often even without motion (e.g. 10s)."
    )

    @field_validator("zones", "mask")
    @classmethod
    def _polygons(cls, value: list[Polygon] | None) -> list[Polygon] | None:
        for polygon in value or []:
            if len(polygon) < 3:
                raise ValueError(f"a polygon needs at least 3 points (got {len(polygon)})")
            if any(not (0.0 <= v <= 1.0) for point in polygon for v in point):
                raise ValueError("polygon points are normalized: x and y in [0, 1]")
        return value


class MotionGate(Gate):
    def __init__(self, config: MotionGateConfig, stream: str) -> None:
        super().__init__(config.name, stream)
        self.config = config
        self._background: npt.NDArray[np.float32] | None = None
        self._previous: Grey | None = None
        self._region: Grey | None = None
        self._last_open = -np.inf
        self._kernel = np.ones((3, 3), np.uint8)

    def opens(self, frame: Frame, now: float) -> bool:
        grey = self._grey(frame)
        moved = self._moved(grey)
        if moved or (self.config.interval is not None and now - self._last_open >= self.config.interval):
            self._last_open = now
            return True
        return False

    def _grey(self, frame: Frame) -> Grey:
        height, width = frame.image.shape[:2]
        size = (self.config.width, max(1, round(height * self.config.width / width)))
        small = cv2.resize(frame.image, size, interpolation=cv2.INTER_AREA)
        return cast(Grey, cv2.GaussianBlur(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), (3, 3), 0))

    def _moved(self, grey: Grey) -> bool:
        if self._background is None or self._previous is None or self._previous.shape != grey.shape:
            self._background, self._previous = grey.astype(np.float32), grey
            self._region = region_mask(grey.shape, self.config.zones, self.config.mask)
            return True  # nothing to compare with yet: the first frame is looked at
        t = self.config.threshold
        from_background = cv2.absdiff(grey, cv2.convertScaleAbs(self._background))
        from_previous = cv2.absdiff(grey, self._previous)
        changed = cv2.bitwise_and(
            cv2.threshold(from_background, t, 255, cv2.THRESH_BINARY)[1],
            cv2.threshold(from_previous, t, 255, cv2.THRESH_BINARY)[1],
        )
        if self._region is not None:
            changed = cv2.bitwise_and(changed, self._region)
        changed = cv2.dilate(changed, self._kernel, iterations=1)
        cv2.accumulateWeighted(grey, self._background, self.config.learning_rate)
        self._previous = grey
        contours, _ = cv2.findContours(changed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        return any(cv2.contourArea(c) >= self.config.contour_area for c in contours)


def region_mask(shape: tuple[int, ...], zones: list[Polygon] | None, mask: list[Polygon]) -> Grey | None:
    """255 where motion counts: inside a zone (everywhere without zones) and outside every mask polygon."""
    if zones is None and not mask:
        return None
    height, width = shape[:2]
    region = np.zeros((height, width), np.uint8) if zones is not None else np.full((height, width), 255, np.uint8)
    scale = np.array([width - 1, height - 1], np.float32)
    for polygon in zones or []:
        cv2.fillPoly(region, [np.round(np.array(polygon, np.float32) * scale).astype(np.int32)], 255)
    for polygon in mask:
        cv2.fillPoly(region, [np.round(np.array(polygon, np.float32) * scale).astype(np.int32)], 0)
    return region


def build(config: MotionGateConfig, stream: str) -> MotionGate:
    return MotionGate(config, stream)
