"""A directory or glob of images replayed as a stream at `fps`; each frame names its file and its index."""

from __future__ import annotations

import glob
import logging
import os
import re
import threading
from pathlib import Path
from typing import Literal

import cv2
from pydantic import Field

from edge_runtime.channel import Channel
from edge_runtime.drops import DropCounter
from edge_runtime.frames import Item
from edge_runtime.sections import StrictModel
from edge_runtime.sources._base import BACKPRESSURE, MAILBOX, UNREADABLE, ChannelPolicy, SourceError, Stamp
from edge_runtime.sources._files import display_name, resolve
from edge_runtime.sources._pacing import Pacer
from edge_runtime.sources._thread import ThreadedSource

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"})
_DIGITS = re.compile(r"(\d+)")


class ImagesSourceConfig(StrictModel):
    """Still images as a stream: `source` is the file (relative to the config), `frame` its index in the list."""

    type: Literal["images"]
    path: str = Field(
        min_length=1, description="a directory (its image files) or a glob such as images/*.png, relative to the config"
    )
    fps: float = Field(5.0, gt=0, description="images per second")
    loop: bool = Field(False, description="start again after the last image instead of finishing")
    sort: bool = Field(True, description="read in natural name order (img2 before img10); false: directory order")
    realtime: bool = Field(
        False,
        description="false: every image is delivered, waiting for a slow pipeline; "
        "true: a slow pipeline sees only the newest image, as with a camera",
    )


def natural_key(path: Path) -> tuple[tuple[int, int | str], ...]:
    """Sort key that orders embedded numbers by value: frame2.png before frame10.png."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in _DIGITS.split(path.as_posix()) if part)


def list_images(pattern: str, base_dir: Path, sort: bool) -> list[Path]:
    """The image files a directory holds, or the files a glob matches (relative to `base_dir`)."""
    target = resolve(pattern, base_dir)
    if target.is_dir():
        paths = [Path(entry.path) for entry in os.scandir(target) if Path(entry.name).suffix.lower() in IMAGE_SUFFIXES]
    elif any(ch in pattern for ch in "*?["):
        paths = [Path(p) for p in glob.glob(str(target), recursive=True)]
    else:
        paths = [target]
    paths = [p for p in paths if p.is_file()]
    return sorted(paths, key=natural_key) if sort else paths


class ImagesSource(ThreadedSource):
    kind = "images"

    def __init__(self, config: ImagesSourceConfig, stream: str, drops: DropCounter, base_dir: Path) -> None:
        super().__init__(stream, drops)
        self.config = config
        self.paths = list_images(config.path, base_dir, config.sort)
        if not self.paths:
            raise SourceError(self.describe(f"no image files match {config.path!r} (in {base_dir})"))
        self.labels = [display_name(p, base_dir) for p in self.paths]

    def channel_policy(self) -> ChannelPolicy:
        return MAILBOX if self.config.realtime else BACKPRESSURE

    def capture(self, out: Channel[Item], stop: threading.Event) -> None:
        pacer = Pacer(self.config.fps)
        self.state.connected()
        while self._play(out, stop, pacer) and self.config.loop:
            pass
        self.state.ended()

    def _play(self, out: Channel[Item], stop: threading.Event, pacer: Pacer) -> bool:
        """One pass over the list; False when stopped, or when not one image could be read (nothing to loop)."""
        readable = 0
        for index, (path, label) in enumerate(zip(self.paths, self.labels, strict=True)):
            if not pacer.wait(stop):
                return False
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                self.drops.add(UNREADABLE)
                self.state.error(f"cannot read image {label}")
                log.warning("%s", self.describe(f"cannot read image {label}; skipped"))
                continue
            readable += 1
            self.emit(out, self.make_frame(image, Stamp.now(), label, index), stop)
        return readable > 0
