"""A video made from real photos for the motion gate: still stretches, and stretches where the view pans.

Each segment holds one of scikit-image's photos still, then pans across it (a person in view for the photos
that have one); the next segment cuts to the next photo. `moving` lists the frame ranges that pan.
`python -m edge_runtime.gates.clip OUT.mp4` writes the clip (skipped when it is already there).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from edge_runtime.frames import Image

PHOTOS = ("astronaut", "coffee", "camera", "chelsea")
PEOPLE = frozenset({"astronaut", "camera"})  # the photos with a person in them


@dataclass(frozen=True)
class Clip:
    """What was written: the file, its frame rate, and the panning stretches as [start, end) frame ranges."""

    path: Path
    fps: float
    frames: int
    moving: list[tuple[int, int]] = field(default_factory=list)
    people: list[bool] = field(default_factory=list)  # per moving stretch: a person is in view


def photo(name: str) -> Image:
    """A scikit-image sample photo as a BGR frame (grey photos as three equal channels)."""
    try:
        from skimage import data
    except ImportError as exc:  # the demo extra installs it
        raise SystemExit("the clip needs scikit-image: pip install 'edge-runtime[demo]'") from exc
    image = getattr(data, name)()
    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    return np.ascontiguousarray(image[:, :, ::-1])


def _views(image: Image, size: tuple[int, int], still: int, moving: int) -> Iterator[Image]:
    """``still`` frames of the top-left view, then ``moving`` frames panning right and down from it."""
    width, height = size
    scale = max(width * 1.3 / image.shape[1], height * 1.3 / image.shape[0])
    big = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)))
    room_x, room_y = big.shape[1] - width, big.shape[0] - height
    for i in range(still + moving):
        step = max(0, i - still + 1) / max(1, moving)
        x, y = round(room_x * step * 0.8), round(room_y * step * 0.3)
        yield np.ascontiguousarray(big[y : y + height, x : x + width])


def write_clip(
    path: Path,
    *,
    photos: tuple[str, ...] = PHOTOS,
    rounds: int = 1,
    still: int = 40,
    moving: int = 10,
    fps: float = 10.0,
    size: tuple[int, int] = (400, 300),
) -> Clip:
    """Write the clip (MPEG-4) and say where it moves."""
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        raise RuntimeError(f"cannot write {path} (OpenCV has no MPEG-4 encoder)")
    clip = Clip(path, fps, 0)
    index = 0
    try:
        for name in [p for _ in range(rounds) for p in photos]:
            for view in _views(photo(name), size, still, moving):
                writer.write(view)
            clip.moving.append((index + still, index + still + moving))
            clip.people.append(name in PEOPLE)
            index += still + moving
    finally:
        writer.release()
    return Clip(path, fps, index, clip.moving, clip.people)


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "var/demo/moving.mp4")
    if not target.exists():
        write_clip(target, rounds=2)
