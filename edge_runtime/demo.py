"""Write the demo's inputs: scikit-image's real photos (a face, no face) and variations of them, and a short
video that pans across one of them (a moving face).

`python -m edge_runtime.demo DIR` writes PNG files and `pan.avi` into DIR (skipped when they are already there).
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np


def demo_images() -> dict[str, np.ndarray]:
    """BGR images named by what they show."""
    try:
        from skimage import data
    except ImportError as exc:  # the demo extra installs it
        raise SystemExit("the demo needs scikit-image: pip install 'edge-runtime[demo]'") from exc
    astronaut = cv2.cvtColor(data.astronaut(), cv2.COLOR_RGB2BGR)  # type: ignore[no-untyped-call]
    coffee = cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR)  # type: ignore[no-untyped-call]
    small = np.full((480, 640, 3), 40, np.uint8)
    small[40:440, 120:520] = cv2.resize(astronaut, (400, 400), interpolation=cv2.INTER_AREA)
    return {
        "01-astronaut.png": astronaut,
        "02-coffee.png": coffee,
        "03-astronaut-mirrored.png": np.ascontiguousarray(astronaut[:, ::-1]),
        "04-astronaut-small.png": small,
    }


def write_demo_images(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, image in demo_images().items():
        path = directory / name
        if not path.exists():
            cv2.imwrite(str(path), image)
        written.append(path)
    return written


VIDEO_SIZE = (320, 240)
VIDEO_FPS = 15
VIDEO_FRAMES = 120


def pan_frames(image: np.ndarray, frames: int = VIDEO_FRAMES) -> list[np.ndarray]:
    """A camera panning over a photo and back: a window of VIDEO_SIZE sliding along the scaled image."""
    width, height = VIDEO_SIZE
    scaled = cv2.resize(image, (width * 2, round(image.shape[0] * width * 2 / image.shape[1])))
    top = max(0, (scaled.shape[0] - height) // 4)
    span = scaled.shape[1] - width
    out = []
    for i in range(frames):
        phase = i / (frames - 1) * 2  # 0..2: there and back
        x = round(span * (phase if phase <= 1 else 2 - phase))
        out.append(np.ascontiguousarray(scaled[top : top + height, x : x + width]))
    return out


def write_demo_video(path: Path) -> Path:
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), VIDEO_FPS, VIDEO_SIZE)
    for frame in pan_frames(demo_images()["01-astronaut.png"]):
        writer.write(frame)
    writer.release()
    return path


if __name__ == "__main__":
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else "var/demo/images")
    write_demo_images(directory)
    write_demo_video(directory.parent / "pan.avi")
