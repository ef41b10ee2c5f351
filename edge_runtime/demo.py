"""Write the demo's image stream: scikit-image's real photos (a face, no face) and variations of them.

`python -m edge_runtime.demo DIR` writes PNG files into DIR (skipped when they are already there).
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


if __name__ == "__main__":
    write_demo_images(Path(sys.argv[1] if len(sys.argv) > 1 else "var/demo/images"))
