"""The test models of models/ give the answers recorded in their json files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge_runtime.inference import ModelConfig, load_model
from edge_runtime.sections import AcceleratorConfig
from tests.inference.conftest import MODELS, frame, model_file


def _reference_bgr(spec: dict[str, Any]) -> np.ndarray[Any, np.dtype[np.uint8]]:
    rgb = np.zeros((spec["height"], spec["width"], 3), np.uint8)
    rgb[:] = spec["background_rgb"]
    for rect in spec["rects"]:
        (r0, r1), (c0, c1) = rect["rows"], rect["cols"]
        rgb[r0:r1, c0:c1] = rect["rgb"]
    return np.ascontiguousarray(rgb[:, :, ::-1])


def _run(name: str, decoder: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    path = model_file(f"{name}.tflite")
    meta = json.loads(path.with_suffix(".json").read_text())
    entry = {"path": path.name, "sha256": meta["sha256"], "labels": meta["labels"], "decoder": decoder}
    config = ModelConfig.model_validate(entry)
    handle = load_model(name, config, AcceleratorConfig(threads=1), MODELS)
    kind, payload = handle.instantiate().run(frame(_reference_bgr(meta["reference_image"])))
    assert kind == "detections"
    return meta, payload["detections"]


@pytest.mark.parametrize("name", ["test_ssd_postprocess", "test_ssd_postprocess_uint8"])
def test_ssd_postprocess_model(name: str) -> None:
    meta, found = _run(name, {"type": "ssd_postprocess", "threshold": 0.5})
    expected = meta["expected_detections"]
    assert [d["class_id"] for d in found] == [e["class"] for e in expected]
    assert [d["label"] for d in found] == [meta["labels"][e["class"]] for e in expected]
    for got, want in zip(found, expected, strict=True):
        y0, x0, y1, x1 = want["box_yxyx"]
        assert got["box"] == pytest.approx([x0, y0, x1, y1], abs=1e-3)
        assert got["score"] == pytest.approx(want["score"], abs=1e-3)


@pytest.mark.parametrize("name", ["test_yolo_v5", "test_yolo_v8", "test_yolo_v8_norm"])
def test_yolo_model(name: str) -> None:
    meta, found = _run(name, {"type": "yolo", "threshold": meta_threshold(name)})
    expected = sorted(meta["expected_detections"], key=lambda e: (-e["score"], e["anchor"]))
    assert len(found) == len(expected)
    got = sorted(found, key=lambda d: (-d["score"], d["box"][1], d["box"][0]))
    want = sorted(expected, key=lambda e: (-round(e["score"], 4), e["box_xyxy_norm"][1], e["box_xyxy_norm"][0]))
    for d, e in zip(got, want, strict=True):
        assert d["class_id"] == e["class"]
        assert d["score"] == pytest.approx(e["score"], abs=1e-3)
        assert d["box"] == pytest.approx(e["box_xyxy_norm"], abs=1e-3)


def meta_threshold(name: str) -> float:
    path = MODELS / f"{name}.json"
    return float(json.loads(path.read_text())["conf_threshold_used"]) if path.exists() else 0.25


def test_digits_accuracy() -> None:
    path = model_file("digits_uint8.tflite")
    meta = json.loads(path.with_suffix(".json").read_text())
    config = ModelConfig.model_validate({"path": path.name, "labels": meta["labels"], "decoder": "classification"})
    runner = load_model("digits", config, AcceleratorConfig(threads=1), MODELS).instantiate()
    test = np.load(MODELS / meta["test_data"].split()[0])
    right = 0
    for image, label in zip(test["X_test"], test["y_test"], strict=True):
        kind, payload = runner.run(frame(np.repeat(image[:, :, None], 3, axis=2)))
        top = payload["classes"][0]
        right += int(top["class_id"] == label and top["label"] == str(label))
    accuracy = right / len(test["y_test"])
    assert kind == "classification"
    assert accuracy >= 0.95
    assert accuracy == pytest.approx(meta["test_accuracy"], abs=0.01)


def test_mobilenet_int8_loads_and_classifies() -> None:
    path = model_file("mobilenet_v2_int8.tflite")
    config = ModelConfig.model_validate({"path": str(path), "decoder": "classification"})
    handle = load_model("mobilenet", config, AcceleratorConfig(threads=1), Path("/"))
    kind, payload = handle.instantiate().run(frame(np.full((240, 320, 3), 128, np.uint8)))
    assert kind == "classification"
    assert len(payload["classes"]) == 5
    assert all(0.0 <= c["score"] <= 1.0 for c in payload["classes"])
