"""``blazeface``: the anchors decoder preset for MediaPipe's BlazeFace short-range model (128x128, 896 anchors)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from edge_runtime.inference.decoders._base import ModelIO
from edge_runtime.inference.decoders.anchors import AnchorsDecoder, AnchorsDecoderConfig
from edge_runtime.sections import StrictModel


class BlazeFaceDecoderConfig(StrictModel):
    """BlazeFace short range: 128x128, strides [8, 16, 16, 16], x/y/w/h scale 128, sigmoid scores."""

    type: Literal["blazeface"] = "blazeface"
    min_score: float = Field(0.5, ge=0.0, le=1.0, description="Faces scoring below this are dropped.")
    nms: Literal["weighted", "plain"] = Field("weighted", description="weighted (MediaPipe) or plain NMS.")
    iou_threshold: float = Field(0.3, ge=0.0, le=1.0, description="Overlap above which boxes are merged.")
    max_detections: int = Field(100, ge=1, description="At most this many faces per frame.")

    def to_anchors(self) -> AnchorsDecoderConfig:
        return AnchorsDecoderConfig(
            strides=(8, 16, 16, 16),
            min_scale=0.1484375,
            max_scale=0.75,
            input_size=(128, 128),
            fixed_anchor_size=True,
            interpolated_scale_aspect_ratio=1.0,
            reverse_output_order=True,
            x_scale=128.0,
            y_scale=128.0,
            w_scale=128.0,
            h_scale=128.0,
            sigmoid_score=True,
            score_clipping_thresh=100.0,
            min_score=self.min_score,
            nms=self.nms,
            iou_threshold=self.iou_threshold,
            max_detections=self.max_detections,
        )


BLAZEFACE_INPUT: dict[str, Any] = {"resize": "letterbox", "range": (-1.0, 1.0), "colour": "rgb"}


def build_blazeface(config: BlazeFaceDecoderConfig, io: ModelIO) -> AnchorsDecoder:
    if io.input_size != (128, 128):
        raise io.error(f"input {io.input.describe()}: the blazeface decoder expects a 128x128 input")
    return AnchorsDecoder(config.to_anchors(), io, default_labels=("face",))
