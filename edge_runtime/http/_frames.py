"""Latest frames as JPEG, annotated with the stream's detections.

Encoding runs in one named thread, never on the event loop, only when someone asks (a page open, an MJPEG
client), and at most `fps` times a second per stream: a request in between gets the last encoding again.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from edge_runtime.imaging import annotate

if TYPE_CHECKING:
    from edge_runtime.engine._stream import StreamRunner
    from edge_runtime.frames import Frame, Image
    from edge_runtime.results import Result

MAX_SIDE = 640  # frames are scaled down to this before encoding (a console tile, not an archive)


@dataclass
class _Encoded:
    seq: int
    at: float
    jpeg: bytes


class FrameEncoder:
    def __init__(self, fps: float, quality: int) -> None:
        self.min_interval = 1.0 / fps
        self.quality = quality
        self.encodes = 0  # JPEG encodings made (for the console's cost figures)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="jpeg")
        self._cache: dict[str, _Encoded] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def latest(self, runner: StreamRunner) -> bytes | None:
        """The newest frame of the stream as JPEG (None before its first frame)."""
        lock = self._locks.setdefault(runner.name, asyncio.Lock())
        async with lock:
            cached = self._cache.get(runner.name)
            now = time.monotonic()
            if cached is not None and now - cached.at < self.min_interval:
                return cached.jpeg
            latest = runner.latest
            if latest is None:
                return None
            frame, result = latest
            if cached is not None and cached.seq == frame.seq:
                return cached.jpeg
            jpeg = await asyncio.get_running_loop().run_in_executor(self._pool, self._encode, frame, result)
            self._cache[runner.name] = _Encoded(frame.seq, time.monotonic(), jpeg)
            return jpeg

    def _encode(self, frame: Frame, result: Result) -> bytes:
        image = annotate(_fit(frame.image), result.payload.get("detections", []))
        ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            raise RuntimeError("JPEG encoding failed")
        self.encodes += 1
        return bytes(data.tobytes())

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


def _fit(image: Image) -> Image:
    h, w = image.shape[:2]
    scale = MAX_SIDE / max(h, w)
    if scale >= 1:
        return image.copy()
    return np.asarray(cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA))
