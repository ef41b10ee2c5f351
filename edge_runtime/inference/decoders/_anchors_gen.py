"""SSD anchor generation, following MediaPipe's SsdAnchorsCalculator."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from edge_runtime.inference._interpreter import FloatArray


@dataclass(frozen=True, slots=True)
class AnchorSpec:
    """The subset of SsdAnchorsCalculatorOptions that shapes anchors."""

    input_width: int
    input_height: int
    strides: tuple[int, ...]
    min_scale: float
    max_scale: float
    offset_x: float = 0.5
    offset_y: float = 0.5
    aspect_ratios: tuple[float, ...] = (1.0,)
    interpolated_scale_aspect_ratio: float = 1.0
    fixed_anchor_size: bool = False
    reduce_boxes_in_lowest_layer: bool = False


def _scale(spec: AnchorSpec, index: int) -> float:
    count = len(spec.strides)
    if count == 1:
        return (spec.min_scale + spec.max_scale) / 2
    return spec.min_scale + (spec.max_scale - spec.min_scale) * index / (count - 1)


def _layer_shapes(spec: AnchorSpec, first: int, last: int) -> list[tuple[float, float]]:
    """(width, height) of the anchors per location for the layers [first, last) sharing one stride."""
    ratios: list[float] = []
    scales: list[float] = []
    for layer in range(first, last):
        scale = _scale(spec, layer)
        if layer == 0 and spec.reduce_boxes_in_lowest_layer:
            ratios += [1.0, 2.0, 0.5]
            scales += [0.1, scale, scale]
            continue
        for ratio in spec.aspect_ratios:
            ratios.append(ratio)
            scales.append(scale)
        if spec.interpolated_scale_aspect_ratio > 0:
            following = 1.0 if layer == len(spec.strides) - 1 else _scale(spec, layer + 1)
            scales.append(math.sqrt(scale * following))
            ratios.append(spec.interpolated_scale_aspect_ratio)
    return [(s * math.sqrt(r), s / math.sqrt(r)) for s, r in zip(scales, ratios, strict=True)]


def generate_anchors(spec: AnchorSpec) -> FloatArray:
    """Anchors as rows ``[x_center, y_center, width, height]``, normalized to the input."""
    rows: list[tuple[float, float, float, float]] = []
    layer = 0
    while layer < len(spec.strides):
        last = layer
        while last < len(spec.strides) and spec.strides[last] == spec.strides[layer]:
            last += 1
        shapes = _layer_shapes(spec, layer, last)
        rows_h = math.ceil(spec.input_height / spec.strides[layer])
        cols_w = math.ceil(spec.input_width / spec.strides[layer])
        for y in range(rows_h):
            y_center = (y + spec.offset_y) / rows_h
            for x in range(cols_w):
                x_center = (x + spec.offset_x) / cols_w
                for width, height in shapes:
                    size = (1.0, 1.0) if spec.fixed_anchor_size else (width, height)
                    rows.append((x_center, y_center, *size))
        layer = last
    return np.asarray(rows, dtype=np.float32).reshape(-1, 4)
