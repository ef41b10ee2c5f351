"""The landmarks decoder on given tensors, the crop mapping back to the frame, and anchor strides that fit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from edge_runtime.cascade._config import CropConfig
from edge_runtime.cascade._crops import crop_box, cut, to_frame
from edge_runtime.frames import Frame
from edge_runtime.inference import ModelConfig, ModelError, inspect_model, load_model
from edge_runtime.inference._interpreter import TensorInfo
from edge_runtime.inference.decoders import Landmarks, LandmarksDecoderConfig, ModelIO, build_decoder
from edge_runtime.inference.decoders._strides import anchor_count, fit_strides
from edge_runtime.inference.fetch import fetch
from edge_runtime.sections import AcceleratorConfig
from tests.cascade.conftest import REPO, photo

F32 = np.dtype(np.float32)


def _io(*outputs: tuple[str, tuple[int, ...]], size: tuple[int, int] = (192, 192)) -> ModelIO:
    infos = [TensorInfo(i, name, shape, F32, 0.0, 0) for i, (name, shape) in enumerate(outputs)]
    image = TensorInfo(99, "image", (1, size[1], size[0], 3), F32, 0.0, 0)
    return ModelIO("model 'm' (m.tflite)", image, size, infos)


def _f(values: Any) -> np.ndarray[Any, np.dtype[np.float32]]:
    return np.asarray(values, dtype=np.float32)


def test_points_normalized_to_the_input_presence_gates_them() -> None:
    decoder = build_decoder(LandmarksDecoderConfig(), _io(("pts", (1, 1, 1, 6)), ("face", (1, 1, 1, 1))))
    points = _f([[[[96.0, 48.0, 19.2, 192.0, 0.0, -9.6]]]])
    out = decoder.decode([points, _f([[[[3.0]]]])])
    assert isinstance(out, Landmarks)
    assert out.points.ravel().tolist() == pytest.approx([0.5, 0.25, 0.1, 1.0, 0.0, -0.05])
    assert out.presence == pytest.approx(1 / (1 + np.exp(-3.0)))
    absent = decoder.decode([points, _f([[[[-3.0]]]])])
    assert isinstance(absent, Landmarks)
    assert absent.points.shape == (0, 3)


def test_two_values_per_point_no_presence_and_bad_shapes() -> None:
    decoder = build_decoder(LandmarksDecoderConfig(dims=2), _io(("pts", (1, 4)), size=(100, 50)))
    out = decoder.decode([_f([[50.0, 25.0, 0.0, 50.0]])])
    assert isinstance(out, Landmarks)
    assert (out.points.tolist(), out.presence) == ([[0.5, 0.5], [0.0, 1.0]], None)
    with pytest.raises(ModelError, match=r"^model 'm' \(m.tflite\): output 'pts' float32 \[1,5\]: 5 values are not"):
        build_decoder(LandmarksDecoderConfig(dims=2), _io(("pts", (1, 5))))
    with pytest.raises(ModelError, match=r"decoder\.presence_output 'nope' is not an output"):
        build_decoder(LandmarksDecoderConfig(presence_output="nope"), _io(("pts", (1, 6))))


def test_crop_at_the_border_is_padded_and_maps_back() -> None:
    image = np.full((100, 200, 3), 255, np.uint8)
    box = crop_box([0.0, 0.0, 0.1, 0.2], image.shape, CropConfig(expand=0.0, square=True))
    assert box == pytest.approx((-0.0, -0.0, 0.1, 0.2))
    box = crop_box([0.9, 0.4, 1.0, 0.6], image.shape, CropConfig(expand=1.0, square=True))
    assert box == pytest.approx((0.85, 0.3, 1.05, 0.7))  # 40 x 40 pixels, square, past the right edge
    crop = cut(image, box)
    assert crop.shape == (40, 40, 3)
    assert crop[:, :30].min() == 255
    assert crop[:, 30:].max() == 0  # padded black outside the frame
    mapped = to_frame("landmarks", {"points": [[0.5, 0.5, 0.1]], "presence": 0.9}, box)
    assert mapped == {"points": [[0.95, 0.5, 0.02]], "presence": 0.9}
    boxes = to_frame("detections", {"detections": [{"label": "x", "box": [0.0, 0.0, 0.5, 1.0]}]}, box)
    assert boxes["detections"][0]["box"] == pytest.approx([0.85, 0.3, 0.95, 0.7])


def test_strides_that_fit_the_anchor_count() -> None:
    assert fit_strides(896, 128, 128) == (8, 16, 16, 16)  # BlazeFace
    assert fit_strides(2254, 224, 224) == (8, 16, 32, 32, 32)  # MediaPipe pose detection
    assert anchor_count((8, 16, 16, 16), 224, 224) == 2744  # what inspect used to suggest for 2254
    assert fit_strides(7, 128, 128) is None


def test_inspect_pose_detection_suggests_an_entry_that_finds_the_astronaut() -> None:
    path = fetch("pose_detection", REPO / "var" / "models")
    text = inspect_model(path)
    assert "'Identity' float32 [1,2254,12]" in text
    (entry,) = yaml.safe_load(text.split("suggested config entry:\n", 1)[1])["models"].values()
    assert entry["decoder"]["strides"] == [8, 16, 32, 32, 32]
    handle = load_model("person", ModelConfig.model_validate(entry), AcceleratorConfig(threads=1), Path("/"))
    kind, payload = handle.instantiate().run(Frame("t", 0, 0.0, 0.0, photo("astronaut")))
    assert kind == "detections"
    assert len(payload["detections"]) == 1


def test_inspect_face_landmark_suggests_the_landmarks_decoder() -> None:
    text = inspect_model(fetch("face_landmark", REPO / "var" / "models"))
    (entry,) = yaml.safe_load(text.split("suggested config entry:\n", 1)[1])["models"].values()
    assert entry["decoder"] == {"type": "landmarks", "dims": 3}
    handle = load_model("marks", ModelConfig.model_validate(entry), AcceleratorConfig(threads=1), Path("/"))
    kind, payload = handle.instantiate().run(Frame("t", 0, 0.0, 0.0, photo("astronaut")[30:210, 150:330].copy()))
    assert kind == "landmarks"
    assert len(payload["points"]) == 468
