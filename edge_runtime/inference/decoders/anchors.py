"""``anchors``: SSD-anchor regression heads (BlazeFace-style), decoded as MediaPipe's TensorsToDetections does."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from pydantic import Field, model_validator

from edge_runtime.inference._interpreter import FloatArray, TensorInfo
from edge_runtime.inference.decoders._anchors_gen import AnchorSpec, generate_anchors
from edge_runtime.inference.decoders._base import Detections, ModelIO, sigmoid
from edge_runtime.inference.decoders._nms import nms, weighted_nms
from edge_runtime.sections import StrictModel

_BOX_HINTS = ("regress", "box", "loc")
_SCORE_HINTS = ("classif", "score", "conf")


class AnchorsDecoderConfig(StrictModel):
    """Anchor options (MediaPipe SsdAnchorsCalculator) and decode options (TensorsToDetections)."""

    type: Literal["anchors"] = "anchors"
    strides: tuple[int, ...] = Field(description="Stride of each layer, e.g. [8, 16, 16, 16].")
    min_scale: float = Field(0.1484375, gt=0, description="Anchor scale of the first layer.")
    max_scale: float = Field(0.75, gt=0, description="Anchor scale of the last layer.")
    input_size: tuple[int, int] | None = Field(
        None, description="[width, height] for anchors; default: the model input."
    )
    anchor_offset_x: float = Field(0.5, description="Anchor centre offset within a cell, x.")
    anchor_offset_y: float = Field(0.5, description="Anchor centre offset within a cell, y.")
    aspect_ratios: tuple[float, ...] = Field((1.0,), description="Aspect ratios of the anchors of each layer.")
    interpolated_scale_aspect_ratio: float = Field(
        1.0, description="Extra anchor per location with this ratio; 0: none."
    )
    fixed_anchor_size: bool = Field(True, description="Anchors of size 1x1 (the regression carries the size).")
    reduce_boxes_in_lowest_layer: bool = Field(False, description="Three fixed anchors in layer 0 (MobileNet-SSD).")
    box_coord_offset: int = Field(0, ge=0, description="Where the box starts in each regression row.")
    reverse_output_order: bool = Field(True, description="Rows are x, y, w, h (true) or y, x, h, w (false).")
    x_scale: float = Field(128.0, gt=0, description="Divides the x-centre regression.")
    y_scale: float = Field(128.0, gt=0, description="Divides the y-centre regression.")
    w_scale: float = Field(128.0, gt=0, description="Divides the width regression.")
    h_scale: float = Field(128.0, gt=0, description="Divides the height regression.")
    apply_exponential_on_box_size: bool = Field(False, description="Sizes are exp(w / w_scale) * anchor width.")
    sigmoid_score: bool = Field(True, description="Scores are logits: apply a sigmoid.")
    score_clipping_thresh: float | None = Field(100.0, gt=0, description="Clip logits to +-this before the sigmoid.")
    min_score: float = Field(0.5, ge=0.0, le=1.0, description="Detections scoring below this are dropped.")
    nms: Literal["weighted", "plain"] = Field("weighted", description="weighted: average overlapping boxes.")
    iou_threshold: float = Field(0.3, ge=0.0, le=1.0, description="Boxes overlapping more than this are merged.")
    max_detections: int = Field(100, ge=1, description="At most this many detections per frame.")
    boxes_output: str | None = Field(None, description="Name of the regression output (default: found by shape).")
    scores_output: str | None = Field(None, description="Name of the score output (default: found by shape).")

    @model_validator(mode="after")
    def _has_layers(self) -> AnchorsDecoderConfig:
        if not self.strides:
            raise ValueError("strides: at least one layer is needed")
        return self


class AnchorsDecoder:
    kind = "detections"

    def __init__(
        self, config: AnchorsDecoderConfig, io: ModelIO, default_labels: tuple[str, ...] | None = None
    ) -> None:
        self.config = config
        self.default_labels = default_labels
        width, height = config.input_size or io.input_size
        self.anchors = generate_anchors(_spec(config, width, height))
        self._boxes, self._scores = _find_outputs(config, io)
        boxes_info, scores_info = io.outputs[self._boxes], io.outputs[self._scores]
        for info in (boxes_info, scores_info):
            if len(info.shape) != 3 or info.shape[1] != len(self.anchors):
                raise io.error(
                    f"output {info.describe()}: the anchor options make {len(self.anchors)} anchors; "
                    f"expected [1, {len(self.anchors)}, k]"
                )
        if boxes_info.shape[2] < config.box_coord_offset + 4:
            raise io.error(f"output {boxes_info.describe()}: rows too short for a box at {config.box_coord_offset}")
        self.num_classes: int | None = scores_info.shape[2]

    def decode(self, outputs: Sequence[FloatArray]) -> Detections:
        c = self.config
        raw_scores = outputs[self._scores][0]
        if c.score_clipping_thresh is not None:
            raw_scores = np.clip(raw_scores, -c.score_clipping_thresh, c.score_clipping_thresh)
        scores_all = sigmoid(raw_scores) if c.sigmoid_score else raw_scores
        class_ids = scores_all.argmax(axis=1)
        scores = scores_all[np.arange(len(class_ids)), class_ids]
        chosen = np.flatnonzero(scores >= c.min_score)
        if chosen.size == 0:
            return Detections.empty()
        boxes = self._boxes_of(outputs[self._boxes][0, chosen], self.anchors[chosen])
        valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
        boxes, scores, class_ids = boxes[valid], scores[chosen][valid], class_ids[chosen][valid]
        if c.nms == "weighted":
            merged, keep = weighted_nms(boxes, scores, c.iou_threshold, c.max_detections)
            return Detections(merged, scores[keep].astype(np.float32), class_ids[keep].astype(np.int64))
        keep = nms(boxes, scores, c.iou_threshold, c.max_detections)
        return Detections(boxes[keep], scores[keep].astype(np.float32), class_ids[keep].astype(np.int64))

    def _boxes_of(self, raw: FloatArray, anchors: FloatArray) -> FloatArray:
        c = self.config
        o = c.box_coord_offset
        x, y, w, h = (raw[:, o], raw[:, o + 1], raw[:, o + 2], raw[:, o + 3])
        if not c.reverse_output_order:
            x, y, w, h = y, x, h, w
        xc = x / c.x_scale * anchors[:, 2] + anchors[:, 0]
        yc = y / c.y_scale * anchors[:, 3] + anchors[:, 1]
        if c.apply_exponential_on_box_size:
            w, h = np.exp(w / c.w_scale) * anchors[:, 2], np.exp(h / c.h_scale) * anchors[:, 3]
        else:
            w, h = w / c.w_scale * anchors[:, 2], h / c.h_scale * anchors[:, 3]
        out: FloatArray = np.stack([xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2], axis=1).astype(np.float32)
        return out


def _spec(c: AnchorsDecoderConfig, width: int, height: int) -> AnchorSpec:
    return AnchorSpec(
        input_width=width,
        input_height=height,
        strides=c.strides,
        min_scale=c.min_scale,
        max_scale=c.max_scale,
        offset_x=c.anchor_offset_x,
        offset_y=c.anchor_offset_y,
        aspect_ratios=c.aspect_ratios,
        interpolated_scale_aspect_ratio=c.interpolated_scale_aspect_ratio,
        fixed_anchor_size=c.fixed_anchor_size,
        reduce_boxes_in_lowest_layer=c.reduce_boxes_in_lowest_layer,
    )


def _find_outputs(c: AnchorsDecoderConfig, io: ModelIO) -> tuple[int, int]:
    """(boxes, scores) positions: by configured name, else by name hints, else the wider row is the box."""
    names = [o.name for o in io.outputs]
    if c.boxes_output is not None or c.scores_output is not None:
        return _by_name(c.boxes_output, names, io, "boxes_output"), _by_name(
            c.scores_output, names, io, "scores_output"
        )
    if len(io.outputs) != 2:
        raise io.error(f"the anchors decoder expects 2 outputs (boxes, scores), the model has {len(io.outputs)}")
    boxes = _hinted(io.outputs, _BOX_HINTS)
    scores = _hinted(io.outputs, _SCORE_HINTS)
    if boxes is None or scores is None or boxes == scores:
        boxes = 0 if io.outputs[0].shape[-1] >= io.outputs[1].shape[-1] else 1
        scores = 1 - boxes
    return boxes, scores


def _hinted(outputs: Sequence[TensorInfo], hints: tuple[str, ...]) -> int | None:
    found = [i for i, o in enumerate(outputs) if any(h in o.hint for h in hints)]
    return found[0] if len(found) == 1 else None


def _by_name(name: str | None, names: list[str], io: ModelIO, key: str) -> int:
    if name is None or name not in names:
        raise io.error(f"decoder.{key} {name!r} is not an output of the model (outputs: {', '.join(names)})")
    return names.index(name)
