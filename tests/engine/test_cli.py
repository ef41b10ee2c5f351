"""The `edge-runtime` commands a user types, run as real processes."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def edge_runtime(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge_runtime", *args], check=False, capture_output=True, text=True, timeout=120
    )


def test_models_inspect_suggests_an_entry_that_validates(tmp_path: Path) -> None:
    proc = edge_runtime("models", "inspect", str(ROOT / "models" / "digits_uint8.tflite"))
    assert proc.returncode == 0, proc.stderr
    assert "uint8 [1,8,8,1]" in proc.stdout
    entry = textwrap.dedent(proc.stdout.split("suggested config entry:\n", 1)[1])
    entry = entry.replace("path: models/", f"path: {ROOT}/models/")
    config = tmp_path / "cfg.yaml"
    config.write_text(
        entry + "streams:\n  s:\n    source: {type: synthetic, fps: 1}\n"
        "    pipeline: [{type: infer, model: digits_uint8}]\n"
    )
    check = edge_runtime("validate", str(config))
    assert check.returncode == 0, check.stderr


def test_models_inspect_of_garbage_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.tflite"
    bad.write_bytes(b"not a model at all" * 10)
    proc = edge_runtime("models", "inspect", str(bad))
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "bad.tflite" in proc.stderr


def test_models_fetch_is_idempotent_and_verified() -> None:
    first = edge_runtime("models", "fetch")
    second = edge_runtime("models", "fetch")
    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    assert "face_detection_short_range.tflite" in second.stdout
