"""Generated frames (a moving box, or noise) or sensor readings (sine plus noise) at `fps`: for tests and benchmarks.

Frames cost next to nothing per frame, like a camera whose decoding runs in C: noise frames come from a small
ring generated once, and each moving-box position is drawn once and kept (within `RING_BYTES`). Kept images are
read-only, so a frame a slow pipeline still holds can never change under it.
"""

from __future__ import annotations

import math
import threading
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from edge_runtime.channel import Channel
from edge_runtime.config import StrictModel
from edge_runtime.drops import DropCounter
from edge_runtime.frames import Image, Item
from edge_runtime.sources._base import BACKPRESSURE, MAILBOX, SENSOR_BUFFER, ChannelPolicy, Stamp
from edge_runtime.sources._pacing import Pacer
from edge_runtime.sources._thread import ThreadedSource

RING_BYTES = 16 << 20  # at most this much of generated images is kept for reuse
NOISE_RING = 16  # distinct noise frames, at most


class SyntheticSourceConfig(StrictModel):
    """A generated stream. Frames are BGR uint8 like a camera's; readings are named floats like a sensor's."""

    type: Literal["synthetic"]
    kind: Literal["frames", "readings"] = Field("frames", description="generate images or sensor readings")
    pattern: Literal["moving_box", "noise"] = Field(
        "moving_box", description="frames: a white box crossing a gray field, or uniform noise"
    )
    width: int = Field(320, gt=0, le=8192, description="frame width (pixels)")
    height: int = Field(240, gt=0, le=8192, description="frame height (pixels)")
    fps: float = Field(10.0, gt=0, description="items per second")
    count: int | None = Field(None, ge=1, description="stop after this many items (default: run until stopped)")
    realtime: bool = Field(
        True,
        description="true: a slow pipeline sees only the newest frame (readings are buffered, 64 at most); "
        "false: every item is delivered, waiting for the pipeline",
    )
    fields: tuple[str, ...] = Field(("value",), min_length=1, description="readings: the value names")
    amplitude: float = Field(1.0, description="readings: sine amplitude")
    period: float = Field(10.0, gt=0, description="readings: sine period (s); each field is phase-shifted")
    noise: float = Field(0.05, ge=0, description="readings: standard deviation of the added gaussian noise")
    seed: int | None = Field(None, description="random seed, for repeatable noise")


class SyntheticSource(ThreadedSource):
    kind = "synthetic"

    def __init__(self, config: SyntheticSourceConfig, stream: str, drops: DropCounter, base_dir: Path) -> None:
        del base_dir  # nothing to resolve
        super().__init__(stream, drops)
        self.config = config
        self._rng = np.random.default_rng(config.seed)
        frame_bytes = config.width * config.height * 3
        self._keep = max(0, RING_BYTES // frame_bytes)  # images kept; 0: draw every frame
        self._kept: dict[int, Image] = {}  # noise: ring slot -> image; moving box: box position -> image

    def channel_policy(self) -> ChannelPolicy:
        if not self.config.realtime:
            return BACKPRESSURE
        return MAILBOX if self.config.kind == "frames" else SENSOR_BUFFER

    def capture(self, out: Channel[Item], stop: threading.Event) -> None:
        pacer = Pacer(self.config.fps)
        self.state.connected()
        index = 0
        while (self.config.count is None or index < self.config.count) and pacer.wait(stop):
            stamp = Stamp.now()
            if self.config.kind == "frames":
                item: Item = self.make_frame(self.image(index), stamp, frame=index)
            else:
                item = self.make_reading(self.values(index / self.config.fps), stamp)
            self.emit(out, item, stop)
            index += 1
        self.state.ended()

    def image(self, index: int) -> Image:
        """Frame `index` of the pattern."""
        if self.config.pattern == "noise":
            key = index % max(1, min(NOISE_RING, self._keep))
            kept = self._kept.get(key)
            return kept if kept is not None else self._remember(key, self._noise())
        width, height = self.config.width, self.config.height
        side = max(1, min(width, height) // 4)
        span = max(1, width - side)
        x = (index * max(1, width // 40)) % (2 * span)
        x = x if x < span else 2 * span - x  # bounce between the edges
        kept = self._kept.get(x)
        return kept if kept is not None else self._remember(x, self._box(x, side))

    def _noise(self) -> Image:
        return self._rng.integers(0, 256, size=(self.config.height, self.config.width, 3), dtype=np.uint8)

    def _box(self, x: int, side: int) -> Image:
        height, width = self.config.height, self.config.width
        image = np.full((height, width, 3), 64, dtype=np.uint8)
        y = (height - side) // 2
        image[y : y + side, x : x + side] = 255
        return image

    def _remember(self, key: int, image: Image) -> Image:
        if len(self._kept) < self._keep:
            image.flags.writeable = False
            self._kept[key] = image
        return image

    def values(self, t: float) -> dict[str, float]:
        """The readings at `t` seconds into the stream."""
        cfg = self.config
        values: dict[str, float] = {}
        for i, name in enumerate(cfg.fields):
            phase = 2 * math.pi * (t / cfg.period + i / len(cfg.fields))
            values[name] = cfg.amplitude * math.sin(phase) + float(self._rng.normal(0.0, cfg.noise))
        return values
