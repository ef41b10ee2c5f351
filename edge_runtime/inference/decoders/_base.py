"""What every decoder returns, and the shared helpers decoders use (tensor lookup, sigmoid, box formats)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from edge_runtime.inference._errors import ModelError
from edge_runtime.inference._interpreter import FloatArray, TensorInfo

IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, slots=True)
class Detections:
    """Boxes as normalized ``[x0, y0, x1, y1]`` on the model input (before letterbox/crop is undone)."""

    boxes: FloatArray  # (N, 4)
    scores: FloatArray  # (N,)
    class_ids: IntArray  # (N,)

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int64))


@dataclass(frozen=True, slots=True)
class Classes:
    """The top classes, best first."""

    scores: FloatArray
    class_ids: IntArray


@dataclass(frozen=True, slots=True)
class Landmarks:
    """Points normalized to the model input: x / width, y / height (and z / width); none when not present."""

    points: FloatArray  # (N, 2) or (N, 3)
    presence: float | None


Decoded = Detections | Classes | Landmarks


@dataclass(frozen=True, slots=True)
class ModelIO:
    """What a decoder is built against: the model's tensors, and the name used in errors."""

    where: str  # "model 'faces' (models/x.tflite)"
    input: TensorInfo
    input_size: tuple[int, int]  # (width, height) of the image the model sees
    outputs: Sequence[TensorInfo]

    def error(self, problem: str) -> ModelError:
        return ModelError(f"{self.where}: {problem}")


class Decoder(Protocol):
    """Turns the dequantized outputs of one invoke into detections or classes."""

    kind: str  # "detections" | "classification" | "landmarks"
    num_classes: int | None  # known from the tensors, for the labels check; None when the model cannot say
    default_labels: tuple[str, ...] | None  # labels a preset brings (e.g. ("face",)), used when the config has none

    def decode(self, outputs: Sequence[FloatArray]) -> Decoded: ...


def sigmoid(x: FloatArray) -> FloatArray:
    """Logistic function without overflow for large |x|."""
    e = np.exp(-np.abs(x))
    out: FloatArray = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(np.float32)
    return out


def xywh_to_xyxy(boxes: FloatArray) -> FloatArray:
    """Centre/size boxes to corner boxes."""
    half = boxes[:, 2:4] / 2.0
    return np.concatenate([boxes[:, 0:2] - half, boxes[:, 0:2] + half], axis=1).astype(np.float32)


def flat_shape(info: TensorInfo) -> tuple[int, ...]:
    """The shape without leading batch 1s."""
    shape = info.shape
    while len(shape) > 1 and shape[0] == 1:
        shape = shape[1:]
    return shape
