"""``landmarks``: N points of x, y (and z) in input pixels, with an optional presence score (MediaPipe style).

Points come out normalized to the model input (x / width, y / height; z / width), then the payload maps them to
the frame the model saw (for a cascade: the crop, then the whole frame).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field

from edge_runtime.inference._interpreter import FloatArray
from edge_runtime.inference.decoders._base import Landmarks, ModelIO, sigmoid
from edge_runtime.sections import StrictModel


class LandmarksDecoderConfig(StrictModel):
    """One output of N x dims values (points), and optionally a one-value output (presence)."""

    type: Literal["landmarks"] = "landmarks"
    dims: Literal[2, 3] = Field(3, description="Values per point: x, y (2) or x, y, z (3).")
    points_output: str | None = Field(None, description="Name of the points output (default: the largest).")
    presence_output: str | None = Field(None, description="Name of the presence output (default: a 1-value one).")
    presence_sigmoid: bool = Field(True, description="The presence is a logit: apply a sigmoid.")
    min_presence: float = Field(
        0.5, ge=0.0, le=1.0, description="Below this presence the model found nothing: no points are reported."
    )


class LandmarksDecoder:
    kind = "landmarks"
    num_classes: int | None = None
    default_labels: tuple[str, ...] | None = None

    def __init__(self, config: LandmarksDecoderConfig, io: ModelIO) -> None:
        self.config = config
        sizes = [int(np.prod(o.shape)) for o in io.outputs]
        self._points = _position(config.points_output, io, "points_output", int(np.argmax(sizes)))
        ones = [i for i, n in enumerate(sizes) if n == 1 and i != self._points]
        self._presence: int | None = (
            _position(config.presence_output, io, "presence_output", 0)
            if config.presence_output is not None
            else (ones[0] if len(ones) == 1 else None)
        )
        values = sizes[self._points]
        if values % config.dims:
            raise io.error(
                f"output {io.outputs[self._points].describe()}: {values} values are not points of {config.dims}"
            )
        self.num_points = values // config.dims
        width, height = io.input_size
        self._scale = np.array([width, height, width][: config.dims], np.float32)

    def decode(self, outputs: Sequence[FloatArray]) -> Landmarks:
        presence = None
        if self._presence is not None:
            raw = float(outputs[self._presence].reshape(-1)[0])
            presence = float(sigmoid(np.array([raw], np.float32))[0]) if self.config.presence_sigmoid else raw
            if presence < self.config.min_presence:
                return Landmarks(np.zeros((0, self.config.dims), np.float32), presence)
        points = outputs[self._points].reshape(self.num_points, self.config.dims) / self._scale
        return Landmarks(points.astype(np.float32), presence)


def _position(name: str | None, io: ModelIO, key: str, default: int) -> int:
    if name is None:
        return default
    names = [o.name for o in io.outputs]
    if name not in names:
        raise io.error(f"decoder.{key} {name!r} is not an output of the model (outputs: {', '.join(names)})")
    return names.index(name)
