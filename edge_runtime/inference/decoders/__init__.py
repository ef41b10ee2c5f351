"""Decoders: one module per kind, each with its own config model; joined on ``type:``."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from edge_runtime.inference.decoders._base import Classes, Decoded, Decoder, Detections, Landmarks, ModelIO
from edge_runtime.inference.decoders.anchors import AnchorsDecoder, AnchorsDecoderConfig
from edge_runtime.inference.decoders.blazeface import BLAZEFACE_INPUT, BlazeFaceDecoderConfig, build_blazeface
from edge_runtime.inference.decoders.classification import ClassificationDecoder, ClassificationDecoderConfig
from edge_runtime.inference.decoders.landmarks import LandmarksDecoder, LandmarksDecoderConfig
from edge_runtime.inference.decoders.ssd_postprocess import SsdPostprocessDecoder, SsdPostprocessDecoderConfig
from edge_runtime.inference.decoders.yolo import YoloDecoder, YoloDecoderConfig

DecoderConfig = Annotated[
    ClassificationDecoderConfig
    | SsdPostprocessDecoderConfig
    | YoloDecoderConfig
    | AnchorsDecoderConfig
    | BlazeFaceDecoderConfig
    | LandmarksDecoderConfig,
    Field(discriminator="type"),
]

DECODER_KINDS = ("classification", "ssd_postprocess", "yolo", "anchors", "blazeface", "landmarks")
DETECTOR_KINDS = ("ssd_postprocess", "yolo", "anchors", "blazeface")  # decoders whose results are boxes

_INPUT_DEFAULTS: dict[str, dict[str, Any]] = {
    "blazeface": BLAZEFACE_INPUT,
    "yolo": {"resize": "letterbox", "pad_value": 114},
}


def build_decoder(config: DecoderConfig, io: ModelIO) -> Decoder:
    """The decoder for ``config``, checked against the model's tensors (raises ModelError on a mismatch)."""
    if isinstance(config, ClassificationDecoderConfig):
        return ClassificationDecoder(config, io)
    if isinstance(config, SsdPostprocessDecoderConfig):
        return SsdPostprocessDecoder(config, io)
    if isinstance(config, YoloDecoderConfig):
        return YoloDecoder(config, io)
    if isinstance(config, AnchorsDecoderConfig):
        return AnchorsDecoder(config, io)
    if isinstance(config, LandmarksDecoderConfig):
        return LandmarksDecoder(config, io)
    return build_blazeface(config, io)


def input_defaults(config: DecoderConfig) -> dict[str, Any]:
    """Input handling a decoder kind implies (e.g. BlazeFace: letterbox, [-1, 1]); the config's own keys win."""
    return dict(_INPUT_DEFAULTS.get(config.type, {}))


__all__ = [
    "DECODER_KINDS",
    "DETECTOR_KINDS",
    "AnchorsDecoderConfig",
    "BlazeFaceDecoderConfig",
    "Classes",
    "ClassificationDecoderConfig",
    "Decoded",
    "Decoder",
    "DecoderConfig",
    "Detections",
    "Landmarks",
    "LandmarksDecoderConfig",
    "ModelIO",
    "SsdPostprocessDecoderConfig",
    "YoloDecoderConfig",
    "build_decoder",
    "input_defaults",
]
