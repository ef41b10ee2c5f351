"""Each decoder on hand-made tensors with known answers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from edge_runtime.inference import TensorInfo
from edge_runtime.inference.decoders import (
    AnchorsDecoderConfig,
    BlazeFaceDecoderConfig,
    Classes,
    ClassificationDecoderConfig,
    Detections,
    ModelIO,
    SsdPostprocessDecoderConfig,
    YoloDecoderConfig,
    build_decoder,
)
from edge_runtime.inference.decoders._anchors_gen import AnchorSpec, generate_anchors
from edge_runtime.inference.decoders._nms import nms, weighted_nms

F32 = np.dtype(np.float32)


def _io(*outputs: tuple[str, tuple[int, ...]], size: tuple[int, int] = (64, 64)) -> ModelIO:
    infos = [TensorInfo(i, name, shape, F32, 0.0, 0) for i, (name, shape) in enumerate(outputs)]
    image = TensorInfo(99, "image", (1, size[1], size[0], 3), F32, 0.0, 0)
    return ModelIO("model 'm' (m.tflite)", image, size, infos)


def _f(values: Any) -> np.ndarray[Any, np.dtype[np.float32]]:
    return np.asarray(values, dtype=np.float32)


def test_classification_top_k_threshold_softmax() -> None:
    decoder = build_decoder(ClassificationDecoderConfig(top_k=3, threshold=0.1), _io(("p", (1, 5))))
    out = decoder.decode([_f([[0.05, 0.5, 0.2, 0.25, 0.0]])])
    assert isinstance(out, Classes)
    assert out.class_ids.tolist() == [1, 3, 2]
    assert out.scores.tolist() == pytest.approx([0.5, 0.25, 0.2])
    logits = build_decoder(ClassificationDecoderConfig(top_k=1, softmax=True), _io(("p", (1, 2))))
    top = logits.decode([_f([[0.0, np.log(3.0)]])])
    assert isinstance(top, Classes)
    assert (top.class_ids.tolist(), top.scores.tolist()) == ([1], pytest.approx([0.75]))


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (3, 0, 1, 2), (2, 3, 0, 1)])
def test_ssd_postprocess_any_output_order(order: tuple[int, ...]) -> None:
    tensors = {
        "boxes": ("detection_boxes", (1, 3, 4), [[[0.1, 0.2, 0.3, 0.4], [0.5, 0.5, 0.9, 0.7], [0, 0, 1, 1]]]),
        "classes": ("detection_classes", (1, 3), [[2.0, 0.0, 1.0]]),
        "scores": ("detection_scores", (1, 3), [[0.9, 0.6, 0.3]]),
        "count": ("num_detections", (1,), [3.0]),
    }
    roles = [list(tensors)[i] for i in order]
    decoder = build_decoder(
        SsdPostprocessDecoderConfig(threshold=0.5), _io(*[(tensors[r][0], tensors[r][1]) for r in roles])
    )
    out = decoder.decode([_f(tensors[r][2]) for r in roles])
    assert isinstance(out, Detections)
    assert out.class_ids.tolist() == [2, 0]
    assert out.scores.tolist() == pytest.approx([0.9, 0.6])
    np.testing.assert_allclose(out.boxes, [[0.2, 0.1, 0.4, 0.3], [0.5, 0.5, 0.7, 0.9]], atol=1e-6)


def test_ssd_postprocess_unnamed_outputs_told_apart_by_values() -> None:
    names = [("a:0", (1, 2, 4)), ("a:1", (1, 2)), ("a:2", (1, 2)), ("a:3", (1,))]
    decoder = build_decoder(SsdPostprocessDecoderConfig(threshold=0.5), _io(*names))
    out = decoder.decode([_f([[[0, 0, 1, 1], [0, 0, 0.5, 0.5]]]), _f([[0.8, 0.7]]), _f([[4.0, 1.0]]), _f([2.0])])
    assert isinstance(out, Detections)
    assert out.class_ids.tolist() == [4, 1]


def _v8_head(rows: list[list[float]]) -> np.ndarray[Any, np.dtype[np.float32]]:
    return _f([rows]).transpose(0, 2, 1).copy()  # [1, 4+nc, N]


def test_yolo_v8_nms_within_class_and_pixel_coords() -> None:
    rows = [  # cx, cy, w, h (pixels of a 64x64 input), scores of 2 classes
        [16, 16, 16, 16, 0.9, 0.0],
        [17, 16, 16, 16, 0.8, 0.0],  # overlaps the first, same class: suppressed
        [17, 16, 16, 16, 0.0, 0.7],  # same place, other class: kept
        [48, 48, 8, 8, 0.1, 0.2],  # below threshold
    ]
    decoder = build_decoder(YoloDecoderConfig(variant="v8", threshold=0.25), _io(("out", (1, 6, 4))))
    out = decoder.decode([_v8_head(rows)])
    assert isinstance(out, Detections)
    assert out.class_ids.tolist() == [0, 1]
    assert out.boxes[0].tolist() == pytest.approx([0.125, 0.125, 0.375, 0.375])
    agnostic = build_decoder(
        YoloDecoderConfig(variant="v8", threshold=0.25, class_agnostic=True), _io(("out", (1, 6, 4)))
    )
    agnostic_out = agnostic.decode([_v8_head(rows)])
    assert isinstance(agnostic_out, Detections)
    assert agnostic_out.class_ids.tolist() == [0]


def test_yolo_v5_objectness_times_class() -> None:
    rows = [[0.5, 0.5, 0.2, 0.2, 0.5, 0.2, 0.8], [0.2, 0.2, 0.1, 0.1, 0.1, 1.0, 0.0]]
    decoder = build_decoder(YoloDecoderConfig(threshold=0.3), _io(("out", (1, 2, 7))))
    out = decoder.decode([_f([rows])])
    assert isinstance(out, Detections)
    assert out.class_ids.tolist() == [1]
    assert out.scores.tolist() == pytest.approx([0.4])
    assert out.boxes[0].tolist() == pytest.approx([0.4, 0.4, 0.6, 0.6])


def test_blazeface_anchors_match_mediapipe_layout() -> None:
    anchors = generate_anchors(AnchorSpec(128, 128, (8, 16, 16, 16), 0.1484375, 0.75, fixed_anchor_size=True))
    assert anchors.shape == (896, 4)
    assert anchors[0].tolist() == [1 / 32, 1 / 32, 1.0, 1.0]
    assert anchors[1].tolist() == anchors[0].tolist()  # two per cell on the stride-8 layer
    assert anchors[512].tolist() == [1 / 16, 1 / 16, 1.0, 1.0]  # first cell of the stride-16 layers
    assert (anchors[512:518] == anchors[512]).all()  # six per cell there


def test_anchor_sizes_without_fixed_size() -> None:
    spec = AnchorSpec(300, 300, (16, 32), 0.2, 0.9, aspect_ratios=(1.0, 2.0), interpolated_scale_aspect_ratio=0.0)
    anchors = generate_anchors(spec)
    assert anchors.shape == ((19 * 19 + 10 * 10) * 2, 4)
    assert anchors[0, 2:].tolist() == pytest.approx([0.2, 0.2])
    assert anchors[1, 2:].tolist() == pytest.approx([0.2 * np.sqrt(2), 0.2 / np.sqrt(2)])


def test_blazeface_decoder_places_a_face_on_its_anchor() -> None:
    io = _io(("regressors", (1, 896, 16)), ("classificators", (1, 896, 1)), size=(128, 128))
    decoder = build_decoder(BlazeFaceDecoderConfig(), io)
    boxes, scores = np.zeros((1, 896, 16), np.float32), np.full((1, 896, 1), -100.0, np.float32)
    boxes[0, 600, :4] = [6.4, -3.2, 32.0, 25.6]  # offsets and size in 128-pixel units
    scores[0, 600, 0] = 4.0
    anchor = generate_anchors(AnchorSpec(128, 128, (8, 16, 16, 16), 0.1484375, 0.75, fixed_anchor_size=True))[600]
    out = decoder.decode([boxes, scores])
    assert isinstance(out, Detections)
    cx, cy = anchor[0] + 0.05, anchor[1] - 0.025
    np.testing.assert_allclose(out.boxes, [[cx - 0.125, cy - 0.1, cx + 0.125, cy + 0.1]], atol=1e-6)
    assert out.scores.tolist() == pytest.approx([1 / (1 + np.exp(-4.0))])
    assert decoder.default_labels == ("face",)


def test_anchors_decoder_rejects_a_head_of_the_wrong_size() -> None:
    io = _io(("regressors", (1, 100, 16)), ("classificators", (1, 100, 1)), size=(128, 128))
    with pytest.raises(Exception, match=r"make 896 anchors; expected \[1, 896, k\]"):
        build_decoder(AnchorsDecoderConfig(strides=(8, 16, 16, 16)), io)


def test_plain_and_weighted_nms() -> None:
    boxes = _f([[0, 0, 1, 1], [0.1, 0, 1.1, 1], [2, 2, 3, 3]])
    scores = _f([0.9, 0.6, 0.5])
    assert nms(boxes, scores, 0.5, 10).tolist() == [0, 2]
    merged, keep = weighted_nms(boxes, scores, 0.5, 10)
    assert keep.tolist() == [0, 2]
    assert merged[0].tolist() == pytest.approx([0.04, 0, 1.04, 1])
    assert merged[1].tolist() == [2, 2, 3, 3]
