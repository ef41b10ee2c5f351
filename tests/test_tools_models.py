"""The committed models in models/ load in LiteRT and give their recorded answers.

The models and their JSON files are made by tools/train_digits.py and
tools/make_test_models.py (in the separate tools venv); these tests need only
the runtime dependencies (ai-edge-litert, numpy).
"""

from __future__ import annotations

import hashlib
import importlib
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest

MODELS = Path(__file__).resolve().parent.parent / "models"

# ai_edge_litert ships no type information; keep it Any in one place.
Interpreter: Any = importlib.import_module("ai_edge_litert.interpreter").Interpreter

TEST_MODEL_MAX_BYTES = 200 * 1024
SSD_MODELS = ["test_ssd_postprocess", "test_ssd_postprocess_uint8"]
YOLO_MODELS = ["test_yolo_v8", "test_yolo_v8_norm", "test_yolo_v5"]


def load_json(stem: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((MODELS / f"{stem}.json").read_text())
    return data


def make_interpreter(stem: str) -> Any:
    interp = Interpreter(model_path=str(MODELS / f"{stem}.tflite"))
    interp.allocate_tensors()
    return interp


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def quant(detail: dict[str, Any]) -> tuple[float, int]:
    scale, zero_point = detail["quantization"]
    return float(scale), int(zero_point)


def to_input(image: npt.NDArray[np.uint8], detail: dict[str, Any]) -> npt.NDArray[Any]:
    """uint8 RGB pixels -> the model's input tensor (all inputs map pixel/255)."""
    dtype = np.dtype(detail["dtype"])
    if dtype == np.float32:
        return (image.astype(np.float32) / np.float32(255.0)).astype(np.float32)
    scale, zero_point = quant(detail)
    assert scale == pytest.approx(1.0 / 255.0, rel=1e-6)
    return (image.astype(np.int32) + zero_point).astype(dtype)


def dequantize(values: npt.NDArray[Any], detail: dict[str, Any]) -> npt.NDArray[np.float32]:
    if np.dtype(detail["dtype"]) == np.float32:
        return values.astype(np.float32)
    scale, zero_point = quant(detail)
    return ((values.astype(np.float32) - np.float32(zero_point)) * np.float32(scale)).astype(np.float32)


def render(spec: dict[str, Any]) -> npt.NDArray[np.uint8]:
    """Draw a reference image described in a model JSON: uint8 [1, H, W, 3]."""
    img = np.zeros((1, spec["height"], spec["width"], 3), dtype=np.uint8)
    img[...] = spec["background_rgb"]
    for rect in spec["rects"]:
        (r0, r1), (c0, c1) = rect["rows"], rect["cols"]
        img[0, r0:r1, c0:c1, :] = rect["rgb"]
    return img


def check_tensor(detail: dict[str, Any], recorded: dict[str, Any]) -> None:
    assert str(detail["name"]) == recorded["name"]
    assert list(detail["shape"]) == recorded["shape"]
    assert np.dtype(detail["dtype"]).name == recorded["dtype"]
    if "quantization" in recorded:
        scale, zero_point = quant(detail)
        assert scale == pytest.approx(recorded["quantization"]["scale"], rel=1e-6)
        assert zero_point == recorded["quantization"]["zero_point"]


def check_io(interp: Any, meta: dict[str, Any]) -> None:
    tensors = meta["tensors"]
    inputs, outputs = interp.get_input_details(), interp.get_output_details()
    assert len(inputs) == len(tensors["inputs"])
    assert len(outputs) == len(tensors["outputs"])
    for detail, recorded in zip(inputs + outputs, tensors["inputs"] + tensors["outputs"], strict=True):
        check_tensor(detail, recorded)


# ------------------------------------------------------------------------ digits


@pytest.fixture(scope="module")
def digits_meta() -> dict[str, Any]:
    return load_json("digits_uint8")


@pytest.fixture(scope="module")
def digits_interp() -> Any:
    return make_interpreter("digits_uint8")


def test_digits_files_match_json(digits_meta: dict[str, Any]) -> None:
    assert sha256_of(MODELS / "digits_uint8.tflite") == digits_meta["sha256"]
    labels = (MODELS / "digits_labels.txt").read_text().splitlines()
    assert labels == [str(i) for i in range(10)]
    assert digits_meta["split"] == {"test_size": 0.25, "random_state": 0, "stratify": True}


def test_digits_io(digits_interp: Any) -> None:
    (inp,) = digits_interp.get_input_details()
    (out,) = digits_interp.get_output_details()
    assert inp["dtype"] == np.uint8
    assert list(inp["shape"]) == [1, 8, 8, 1]
    scale, zero_point = quant(inp)
    assert scale == pytest.approx(1.0 / 255.0, rel=1e-6)
    assert zero_point == 0
    assert out["dtype"] == np.uint8
    assert list(out["shape"]) == [1, 10]


def test_digits_accuracy(digits_interp: Any, digits_meta: dict[str, Any]) -> None:
    with np.load(MODELS / "digits_test.npz") as data:
        x_test, y_test = data["X_test"], data["y_test"]
    assert x_test.dtype == np.uint8
    assert x_test.shape == (digits_meta["n_test"], 8, 8)
    assert y_test.shape == (digits_meta["n_test"],)
    (inp,) = digits_interp.get_input_details()
    (out,) = digits_interp.get_output_details()
    correct = 0
    for image, label in zip(x_test, y_test, strict=True):
        digits_interp.set_tensor(inp["index"], image.reshape(1, 8, 8, 1))
        digits_interp.invoke()
        correct += int(np.argmax(digits_interp.get_tensor(out["index"])[0]) == label)
    accuracy = correct / len(y_test)
    assert accuracy >= 0.95
    assert accuracy == pytest.approx(digits_meta["test_accuracy"], abs=0.01)


# --------------------------------------------------------------------------- SSD


def run_ssd(interp: Any, image: npt.NDArray[np.uint8]) -> dict[str, npt.NDArray[Any]]:
    """Outputs by signature key (the interpreter's output order is not canonical)."""
    runner = interp.get_signature_runner("serving_default")
    (input_key,) = runner.get_input_details()
    result: dict[str, npt.NDArray[Any]] = runner(**{input_key: to_input(image, runner.get_input_details()[input_key])})
    return result


def ssd_detections(outputs: dict[str, npt.NDArray[Any]]) -> list[dict[str, Any]]:
    num = int(outputs["num_detections"][0])
    return [
        {
            "class": int(outputs["detection_classes"][0, i]),
            "score": float(outputs["detection_scores"][0, i]),
            "box_yxyx": [float(v) for v in outputs["detection_boxes"][0, i]],
        }
        for i in range(num)
    ]


@pytest.mark.parametrize("stem", SSD_MODELS)
def test_ssd_structure(stem: str) -> None:
    meta = load_json(stem)
    path = MODELS / f"{stem}.tflite"
    assert path.stat().st_size < TEST_MODEL_MAX_BYTES
    assert sha256_of(path) == meta["sha256"]
    interp = make_interpreter(stem)
    check_io(interp, meta)
    keys_by_order = meta["output_keys_by_interpreter_order"]
    assert sorted(keys_by_order) == [
        "detection_boxes",
        "detection_classes",
        "detection_scores",
        "num_detections",
    ]
    runner = interp.get_signature_runner("serving_default")
    out_index = {k: int(d["index"]) for k, d in runner.get_output_details().items()}
    assert [out_index[k] for k in keys_by_order] == [int(d["index"]) for d in interp.get_output_details()]
    max_det = meta["postprocess_attrs"]["max_detections"]
    shapes = {k: list(d["shape"]) for k, d in runner.get_output_details().items()}
    assert shapes == {
        "detection_boxes": [1, max_det, 4],
        "detection_classes": [1, max_det],
        "detection_scores": [1, max_det],
        "num_detections": [1],
    }


@pytest.mark.parametrize("stem", SSD_MODELS)
def test_ssd_reference_image(stem: str) -> None:
    meta = load_json(stem)
    outputs = run_ssd(make_interpreter(stem), render(meta["reference_image"]))
    got = ssd_detections(outputs)
    want = meta["expected_detections"]
    assert len(got) == len(want) == 2
    for g, w in zip(got, want, strict=True):
        assert g["class"] == w["class"]
        assert g["score"] == pytest.approx(w["score"], abs=1e-4)
        assert g["box_yxyx"] == pytest.approx(w["box_yxyx"], abs=1e-5)
    # The design values: red cell (row 1, col 2) then green cell (row 3, col 0).
    assert [g["class"] for g in got] == [0, 1]
    assert got[0]["score"] == pytest.approx(1.0, abs=0.01)
    assert got[1]["score"] == pytest.approx(0.8, abs=0.01)
    assert got[0]["box_yxyx"] == pytest.approx([0.3125, 0.5625, 0.4375, 0.6875], abs=1e-5)
    assert got[1]["box_yxyx"] == pytest.approx([0.8125, 0.0625, 0.9375, 0.1875], abs=1e-5)


@pytest.mark.parametrize("stem", SSD_MODELS)
def test_ssd_rule_on_other_inputs(stem: str) -> None:
    """Any single painted cell gives one box: the central half of that cell."""
    meta = load_json(stem)
    interp = make_interpreter(stem)
    size = meta["input_size"][0]
    grid = math.isqrt(len(meta["anchors_ycxchw"]))
    cell = size // grid
    black = np.zeros((1, size, size, 3), dtype=np.uint8)
    assert ssd_detections(run_ssd(interp, black)) == []
    for row, col, channel, value in [(0, 0, 2, 255), (2, 3, 1, 230), (3, 1, 0, 153)]:
        img = black.copy()
        img[0, row * cell : (row + 1) * cell, col * cell : (col + 1) * cell, channel] = value
        (det,) = ssd_detections(run_ssd(interp, img))
        assert det["class"] == channel
        assert det["score"] == pytest.approx(value / 255.0, abs=0.01)
        yc, xc, q = (row + 0.5) / grid, (col + 0.5) / grid, 0.25 / grid
        assert det["box_yxyx"] == pytest.approx([yc - q, xc - q, yc + q, xc + q], abs=1e-5)
    # Below nms_score_threshold (0.5): nothing.
    img = black.copy()
    img[0, :cell, :cell, 0] = 100
    assert ssd_detections(run_ssd(interp, img)) == []


# -------------------------------------------------------------------------- YOLO


def run_yolo(interp: Any, image: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    (inp,) = interp.get_input_details()
    (out,) = interp.get_output_details()
    interp.set_tensor(inp["index"], to_input(image, inp))
    interp.invoke()
    return dequantize(interp.get_tensor(out["index"]), out)


def decode_yolo(raw: npt.NDArray[np.float32], meta: dict[str, Any]) -> list[dict[str, Any]]:
    """Candidates above the threshold, sorted by score (boxes never overlap: no NMS)."""
    if meta["version"] == 8:
        preds = raw[0].T
        boxes, scores = preds[:, :4], preds[:, 4:]
    else:
        preds = raw[0]
        boxes, scores = preds[:, :4], preds[:, 4:5] * preds[:, 5:]
    size = meta["input_size"][0]
    to_norm = 1.0 if meta["coords"].startswith("normalized") else 1.0 / size
    dets: list[dict[str, Any]] = []
    for i in range(preds.shape[0]):
        cls = int(np.argmax(scores[i]))
        score = float(scores[i, cls])
        if score < meta["conf_threshold_used"]:
            continue
        cx, cy, w, h = (float(v) * to_norm for v in boxes[i])
        dets.append(
            {
                "anchor": i,
                "class": cls,
                "score": score,
                "box_xyxy_norm": [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2],
            }
        )
    dets.sort(key=lambda d: (-d["score"], d["anchor"]))
    return dets


@pytest.mark.parametrize("stem", YOLO_MODELS)
def test_yolo_structure(stem: str) -> None:
    meta = load_json(stem)
    path = MODELS / f"{stem}.tflite"
    assert path.stat().st_size < TEST_MODEL_MAX_BYTES
    assert sha256_of(path) == meta["sha256"]
    interp = make_interpreter(stem)
    check_io(interp, meta)
    (inp,) = interp.get_input_details()
    (out,) = interp.get_output_details()
    size, nc, n = meta["input_size"][0], meta["nc"], meta["num_candidates"]
    assert inp["dtype"] == np.int8
    assert list(inp["shape"]) == [1, size, size, 3]
    assert quant(inp)[0] == pytest.approx(1.0 / 255.0, rel=1e-6)
    assert quant(inp)[1] == -128
    assert out["dtype"] == np.int8
    if meta["version"] == 8:
        assert list(out["shape"]) == [1, 4 + nc, n]
    else:
        assert list(out["shape"]) == [1, n, 5 + nc]


@pytest.mark.parametrize("stem", YOLO_MODELS)
def test_yolo_reference_image(stem: str) -> None:
    meta = load_json(stem)
    raw = run_yolo(make_interpreter(stem), render(meta["reference_image"]))
    got = decode_yolo(raw, meta)
    want = meta["expected_detections"]
    assert len(got) == len(want) == 8
    for g, w in zip(got, want, strict=True):
        assert (g["anchor"], g["class"]) == (w["anchor"], w["class"])
        assert g["score"] == pytest.approx(w["score"], abs=1e-5)
        assert g["box_xyxy_norm"] == pytest.approx(w["box_xyxy_norm"], abs=1e-5)
    # Against the exact (unquantized) design, within the output's quantization step.
    (out,) = make_interpreter(stem).get_output_details()
    step = quant(out)[0]
    box_tol = 1.5 * step * (1.0 if meta["coords"].startswith("normalized") else 1.0 / 64)
    for g, w in zip(got, meta["expected_detections_exact_math"], strict=True):
        assert (g["anchor"], g["class"]) == (w["anchor"], w["class"])
        assert g["score"] == pytest.approx(w["score"], abs=3 * step)
        assert g["box_xyxy_norm"] == pytest.approx(w["box_xyxy_norm"], abs=box_tol)


@pytest.mark.parametrize("stem", YOLO_MODELS)
def test_yolo_rule_on_other_inputs(stem: str) -> None:
    """A single painted 8x8 cell gives one detection on that cell's box."""
    meta = load_json(stem)
    interp = make_interpreter(stem)
    size = meta["input_size"][0]
    grid = math.isqrt(meta["num_candidates"])
    cell = size // grid
    (out,) = interp.get_output_details()
    step = quant(out)[0]
    black = np.zeros((1, size, size, 3), dtype=np.uint8)
    assert decode_yolo(run_yolo(interp, black), meta) == []
    for row, col, channel in [(0, 0, 2), (5, 7, 1), (7, 3, 0)]:
        img = black.copy()
        img[0, row * cell : (row + 1) * cell, col * cell : (col + 1) * cell, channel] = 255
        (det,) = decode_yolo(run_yolo(interp, img), meta)
        assert det["anchor"] == row * grid + col
        assert det["class"] == channel
        assert det["score"] == pytest.approx(1.0, abs=3 * step)
        x0, y0, d = col / grid, row / grid, 1.0 / grid
        tol = 1.5 * step * (1.0 if meta["coords"].startswith("normalized") else 1.0 / size)
        assert det["box_xyxy_norm"] == pytest.approx([x0, y0, x0 + d, y0 + d], abs=tol)


# --------------------------------------------------------------------- MobileNet


def test_mobilenet_runs() -> None:
    meta = load_json("mobilenet_v2_int8")
    path = MODELS / "mobilenet_v2_int8.tflite"
    assert sha256_of(path) == meta["sha256"]
    interp = make_interpreter("mobilenet_v2_int8")
    check_io(interp, meta)
    (inp,) = interp.get_input_details()
    (out,) = interp.get_output_details()
    assert inp["dtype"] == np.uint8
    assert list(inp["shape"]) == [1, 224, 224, 3]
    assert out["dtype"] == np.uint8
    assert list(out["shape"]) == [1, 1000]
    image = np.random.default_rng(0).integers(0, 256, (1, 224, 224, 3), dtype=np.uint8)
    interp.set_tensor(inp["index"], image)
    interp.invoke()
    result = interp.get_tensor(out["index"])
    assert result.shape == (1, 1000)
    assert result.dtype == np.uint8
