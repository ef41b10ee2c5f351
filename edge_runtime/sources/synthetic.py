"""Generated frames (a moving box, or noise) or sensor readings (sine plus noise) at `fps`: for tests and benchmarks.

Frames cost little per frame, like a camera whose decoding runs in C and releases the GIL: a moving box is two
fills, and noise (costly to draw) comes from a small ring drawn once (within `RING_BYTES`). Ring images are
read-only, so a frame a slow pipeline still holds can never change under it.
"""

from __future__ import annotations

import functools
import math
import threading
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from edge_runtime.channel import Channel
from edge_runtime.drops import DropCounter
from edge_runtime.frames import Image, Item
from edge_runtime.sections import StrictModel
from edge_runtime.sources._base import BACKPRESSURE, MAILBOX, SENSOR_BUFFER, ChannelPolicy, Stamp
from edge_runtime.sources._pacing import Pacer
from edge_runtime.sources._thread import ThreadedSource

RING_BYTES = 4 << 20  # noise frames kept for reuse, at most this many bytes
NOISE_RING = 16  # and at most this many frames


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
        self._ring = min(NOISE_RING, RING_BYTES // (config.width * config.height * 3))  # 0: draw every frame
        self._kept: list[Image] = []

    @functools.cached_property
    def _rng(self) -> np.random.Generator:
        """Made on first use: a moving box draws nothing at random (and numpy.random, 2 MiB, stays unloaded)."""
        return np.random.default_rng(self.config.seed)

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
            return self._noise(index)
        height, width = self.config.height, self.config.width
        image = np.full((height, width, 3), 64, dtype=np.uint8)
        side = max(1, min(width, height) // 4)
        span = max(1, width - side)
        x = (index * max(1, width // 40)) % (2 * span)
        x = x if x < span else 2 * span - x  # bounce between the edges
        y = (height - side) // 2
        image[y : y + side, x : x + side] = 255
        return image

    def _noise(self, index: int) -> Image:
        if self._ring and len(self._kept) == self._ring:
            return self._kept[index % self._ring]
        image = self._rng.integers(0, 256, size=(self.config.height, self.config.width, 3), dtype=np.uint8)
        if self._ring:
            image.flags.writeable = False
            self._kept.append(image)
        return image

    def values(self, t: float) -> dict[str, float]:
        """The readings at `t` seconds into the stream."""
        cfg = self.config
        values: dict[str, float] = {}
        for i, name in enumerate(cfg.fields):
            phase = 2 * math.pi * (t / cfg.period + i / len(cfg.fields))
            values[name] = cfg.amplitude * math.sin(phase) + float(self._rng.normal(0.0, cfg.noise))
        return values
