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

from edge_runtime.imaging import annotate, pixel_box
from edge_runtime.stages import TrackedBox, TrackerStage

if TYPE_CHECKING:
    from edge_runtime.engine._stream import StreamRunner
    from edge_runtime.frames import Frame, Image
    from edge_runtime.results import Result

TRACK_COLOUR = (255, 0, 255)  # BGR magenta (rare in a scene): each tracked box and its id `#7` under it
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
            tracked = tracked_on(runner, frame.seq)
            jpeg = await asyncio.get_running_loop().run_in_executor(self._pool, self._encode, frame, result, tracked)
            self._cache[runner.name] = _Encoded(frame.seq, time.monotonic(), jpeg)
            return jpeg

    def _encode(self, frame: Frame, result: Result, tracked: list[TrackedBox]) -> bytes:
        image = draw_tracks(annotate(_fit(frame.image), result.payload.get("detections", [])), tracked)
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


def tracked_on(runner: StreamRunner, seq: int) -> list[TrackedBox]:
    """The stream's tracker ids on frame `seq` (its tracker stages keep the latest frame's confirmed tracks)."""
    found: list[TrackedBox] = []
    for stage in runner.stages:
        if isinstance(stage, TrackerStage) and stage.latest[0] == seq:
            found += stage.latest[1]
    return found


def draw_tracks(image: Image, tracked: list[TrackedBox]) -> Image:
    """The tracker's boxes and ids (`#7`, under each box) drawn in place, over the detections."""
    h, w = image.shape[:2]
    for track in tracked:
        x0, y0, x1, y1 = pixel_box(track.box, w, h)
        cv2.rectangle(image, (x0 + 2, y0 + 2), (x1 - 2, y1 - 2), TRACK_COLOUR, 2)
        y = y1 + 16 if y1 + 16 <= h else max(14, y1 - 6)  # under the box, or inside it at the frame's bottom
        text = f"#{track.track_id}"
        cv2.putText(image, text, (x0 + 2, y), cv2.FONT_HERSHEY_SIMPLEX, 0.55, TRACK_COLOUR, 2, cv2.LINE_AA)
    return image
