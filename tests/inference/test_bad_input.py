"""Every bad model is one clear line at load, naming the model and the file."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pydantic
import pytest
from ai_edge_litert import schema_py_generated as schema

from edge_runtime.inference import ModelConfig, ModelError, load_model
from edge_runtime.sections import AcceleratorConfig
from tests.inference._builder import one_op_model
from tests.inference.conftest import frame, model_file

CPU = AcceleratorConfig(threads=1)


def _load_error(tmp_path: Path, entry: dict[str, Any], accel: AcceleratorConfig = CPU) -> str:
    with pytest.raises(ModelError) as caught:
        load_model("m", ModelConfig.model_validate(entry), accel, tmp_path)
    text = str(caught.value)
    assert "\n" not in text
    assert text.startswith(f"model 'm' ({tmp_path / entry['path']}): ")
    return text


def test_missing_file(tmp_path: Path) -> None:
    assert _load_error(tmp_path, {"path": "nope.tflite", "decoder": "blazeface"}).endswith(": file not found")


def test_not_a_tflite_file(tmp_path: Path) -> None:
    (tmp_path / "x.tflite").write_text("hello, not a model\n")
    text = _load_error(tmp_path, {"path": "x.tflite", "decoder": "blazeface"})
    assert text.endswith("not a TFLite file (truncated or another format)")


def test_truncated_file(tmp_path: Path, blazeface_path: Path) -> None:
    (tmp_path / "cut.tflite").write_bytes(blazeface_path.read_bytes()[:30000])
    text = _load_error(tmp_path, {"path": "cut.tflite", "decoder": "blazeface"})
    assert text.endswith("not a valid TFLite file (truncated or another format)")


def test_sha256_mismatch(tmp_path: Path, blazeface_path: Path) -> None:
    shutil.copy(blazeface_path, tmp_path / "f.tflite")
    text = _load_error(tmp_path, {"path": "f.tflite", "decoder": "blazeface", "sha256": "0" * 64})
    assert f"sha256 mismatch: expected {'0' * 64}, file has 3bc182eb" in text


def test_input_not_an_image(tmp_path: Path) -> None:
    one_op_model(tmp_path / "vec.tflite", [1, 10], schema.BuiltinOperator.RELU)
    text = _load_error(tmp_path, {"path": "vec.tflite", "decoder": "classification"})
    assert "input 'x' float32 [1,10]: not an image input" in text


def test_unsupported_op(tmp_path: Path) -> None:
    one_op_model(tmp_path / "odd.tflite", [1, 8, 8, 3], 0, custom="NotARealOp")
    text = _load_error(tmp_path, {"path": "odd.tflite", "decoder": "classification"})
    assert "unsupported op (unresolved custom op: NotARealOp)" in text


def test_labels_shorter_than_classes(tmp_path: Path) -> None:
    shutil.copy(model_file("digits_uint8.tflite"), tmp_path / "d.tflite")
    entry = {"path": "d.tflite", "decoder": "classification", "labels": ["0", "1", "2"]}
    assert _load_error(tmp_path, entry).endswith("3 labels for 10 classes; give one label per class")


def test_missing_labels_file(tmp_path: Path) -> None:
    shutil.copy(model_file("digits_uint8.tflite"), tmp_path / "d.tflite")
    entry = {"path": "d.tflite", "decoder": "classification", "labels": "labels.txt"}
    assert "cannot read labels file" in _load_error(tmp_path, entry)


def test_decoder_that_does_not_fit(tmp_path: Path) -> None:
    shutil.copy(model_file("digits_uint8.tflite"), tmp_path / "d.tflite")
    text = _load_error(tmp_path, {"path": "d.tflite", "decoder": "blazeface"})
    assert "the blazeface decoder expects a 128x128 input" in text


def test_edgetpu_missing_is_one_line(tmp_path: Path, blazeface_path: Path) -> None:
    shutil.copy(blazeface_path, tmp_path / "f.tflite")
    text = _load_error(tmp_path, {"path": "f.tflite", "decoder": "blazeface"}, AcceleratorConfig(delegate="edgetpu"))
    assert "edgetpu delegate unavailable (libedgetpu.so.1: " in text
    assert text.endswith("or set accelerator.fallback: cpu")


def test_edgetpu_fallback_runs_on_cpu_and_says_so(blazeface_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    config = ModelConfig.model_validate({"path": str(blazeface_path), "decoder": "blazeface"})
    accel = AcceleratorConfig(delegate="edgetpu", fallback="cpu", threads=1)
    with caplog.at_level(logging.WARNING, logger="edge_runtime.inference"):
        handle = load_model("faces", config, accel, Path("/"))
    assert handle.device == "cpu"
    assert any("running on the CPU (fallback: cpu)" in r.getMessage() for r in caplog.records)
    kind, payload = handle.instantiate().run(frame(np.zeros((64, 64, 3), np.uint8)))
    assert (kind, payload) == ("detections", {"detections": []})


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"path": "m.tflite", "decoder": "nonsense"}, "does not match any of the expected tags"),
        ({"path": "m.tflite", "decoder": "yolo", "sha256": "abc"}, "must be 64 hex digits"),
        (
            {"path": "m.tflite", "decoder": "yolo", "input": {"mean": [127.5], "std": [127.5], "range": [0, 1]}},
            "either mean/std or range",
        ),
        ({"path": "m.tflite", "decoder": "yolo", "input": {"mean": [1.0]}}, "mean and std go together"),
        ({"path": "m.tflite", "decoder": {"type": "yolo", "treshold": 0.3}}, "Extra inputs are not permitted"),
    ],
)
def test_config_mistakes_fail_validation(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        ModelConfig.model_validate(entry)
