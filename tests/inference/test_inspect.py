"""inspect_model: tensors, quantization, ops and a config entry that loads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from edge_runtime.inference import ModelConfig, ModelError, inspect_model, load_model
from edge_runtime.inference.fetch import fetch
from edge_runtime.sections import AcceleratorConfig
from tests.inference.conftest import model_file


def test_inspect_blazeface_suggests_an_entry_that_loads(blazeface_path: Path) -> None:
    text = inspect_model(blazeface_path)
    assert "'input' float32 [1,128,128,3]" in text
    assert "'regressors' float32 [1,896,16]" in text
    assert "CONV_2D x21" in text
    suggestion = yaml.safe_load(text.split("suggested config entry:\n", 1)[1])
    (entry,) = suggestion["models"].values()
    assert entry["decoder"] == "blazeface"
    handle = load_model("faces", ModelConfig.model_validate(entry), AcceleratorConfig(threads=1), Path("/"))
    assert handle.ref.sha256 == entry["sha256"]


def test_inspect_shows_quantization() -> None:
    text = inspect_model(model_file("digits_uint8.tflite"))
    assert "uint8 [1,8,8,1] q(scale=0.00392157, zp=0)" in text
    assert "SOFTMAX x1" in text


def test_inspect_bad_file(tmp_path: Path) -> None:
    (tmp_path / "x.tflite").write_bytes(b"\0" * 64)
    with pytest.raises(ModelError, match=r"^model 'x' \(.*x.tflite\): not a valid TFLite file"):
        inspect_model(tmp_path / "x.tflite")


def test_fetch_is_idempotent_and_knows_its_models(blazeface_path: Path) -> None:
    before = blazeface_path.stat().st_mtime_ns
    assert fetch("face_detection_short_range", blazeface_path.parent) == blazeface_path
    assert blazeface_path.stat().st_mtime_ns == before
    known = "face_detection_short_range, face_landmark, pose_detection"
    with pytest.raises(ModelError, match=rf"^unknown shipped model 'nope' \(known: {known}\)$"):
        fetch("nope", blazeface_path.parent)
