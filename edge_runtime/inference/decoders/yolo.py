"""``yolo``: Ultralytics-style heads, v8 ``[1, 4+nc, N]`` and v5 ``[1, N, 5+nc]``, with NMS."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field

from edge_runtime.inference._interpreter import FloatArray
from edge_runtime.inference.decoders._base import Detections, ModelIO, flat_shape, xywh_to_xyxy
from edge_runtime.inference.decoders._nms import nms
from edge_runtime.sections import StrictModel


class YoloDecoderConfig(StrictModel):
    """One output of centre/size boxes and class scores (v5 adds an objectness column)."""

    type: Literal["yolo"] = "yolo"
    variant: Literal["auto", "v5", "v8"] = Field(
        "auto", description="v8: [1, 4+nc, N]; v5: [1, N, 5+nc] with objectness; auto: the longer axis is N."
    )
    coords: Literal["auto", "normalized", "pixels"] = Field(
        "auto", description="Box units: normalized to the input, or input pixels; auto: pixels if any exceeds 2."
    )
    threshold: float = Field(0.25, ge=0.0, le=1.0, description="Detections scoring below this are dropped.")
    iou_threshold: float = Field(0.45, ge=0.0, le=1.0, description="NMS overlap threshold.")
    max_detections: int = Field(100, ge=1, description="At most this many detections per frame.")
    class_agnostic: bool = Field(False, description="NMS across classes (true) or within each class (false).")


class YoloDecoder:
    kind = "detections"
    default_labels: tuple[str, ...] | None = None

    def __init__(self, config: YoloDecoderConfig, io: ModelIO) -> None:
        self.config = config
        if len(io.outputs) != 1:
            raise io.error(f"the yolo decoder expects one output, the model has {len(io.outputs)}")
        shape = flat_shape(io.outputs[0])
        if len(shape) != 2:
            raise io.error(f"output {io.outputs[0].describe()}: the yolo decoder expects [1, 4+nc, N] or [1, N, 5+nc]")
        variant = config.variant
        if variant == "auto":
            variant = "v8" if 4 < shape[0] < shape[1] else "v5"
        self.variant = variant
        columns = shape[0] if variant == "v8" else shape[1]
        self.num_classes: int | None = columns - (4 if variant == "v8" else 5)
        if self.num_classes < 1:
            raise io.error(f"output {io.outputs[0].describe()}: no class columns for a yolo {variant} head")
        self._size = np.asarray(io.input_size * 2, dtype=np.float32)  # (w, h, w, h)

    def decode(self, outputs: Sequence[FloatArray]) -> Detections:
        c = self.config
        head = outputs[0].reshape(outputs[0].shape[-2:])
        rows = head.T if self.variant == "v8" else head
        if self.variant == "v5":
            rows = rows[rows[:, 4] >= c.threshold]
            class_scores = rows[:, 5:] * rows[:, 4:5]
        else:
            class_scores = rows[:, 4:]
        class_ids = class_scores.argmax(axis=1)
        scores = class_scores[np.arange(len(class_ids)), class_ids]
        chosen = np.flatnonzero(scores >= c.threshold)
        if chosen.size == 0:
            return Detections.empty()
        boxes = xywh_to_xyxy(rows[chosen, :4])
        if c.coords == "pixels" or (c.coords == "auto" and float(np.abs(boxes).max()) > 2.0):
            boxes = boxes / self._size
        scores, class_ids = scores[chosen], class_ids[chosen]
        offsets = 0.0 if c.class_agnostic else class_ids[:, None].astype(np.float32) * 4.0
        keep = nms(boxes + offsets, scores, c.iou_threshold, c.max_detections)
        return Detections(
            boxes[keep].astype(np.float32), scores[keep].astype(np.float32), class_ids[keep].astype(np.int64)
        )
