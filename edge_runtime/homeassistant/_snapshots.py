"""Snapshots: on a tracker ``new`` event or an alert, the frame it came from with the boxes drawn, as JPEG.

The frames come from a small ring per stream filled where frames are submitted to the accelerator (the newest
few, found again by their capture time). At most one snapshot per stream every `min_interval_s` (others are
dropped as ``rate_cap``); it waits in a bounded queue (full: dropped, counted ``queue_full``). One task renders
each in a worker thread (draw, crop, JPEG under the size cap, else dropped as ``too_large``), saves it under
``<dir>/<stream>/`` (retention by count and bytes) and hands it to the publisher at low priority: it is
published, retained, on ``<prefix>/<device>/<stream>/snapshot`` only while no result waits to be sent.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge_runtime.drops import QUEUE_FULL, DropCounter
from edge_runtime.frames import Frame, Image
from edge_runtime.homeassistant._config import SnapshotsConfig
from edge_runtime.imaging import annotate, crop_around, jpeg_within
from edge_runtime.jobs import Job

log = logging.getLogger(__name__)
TOO_LARGE = "too_large"
RATE_CAP = "rate_cap"  # within `min_interval_s` of the stream's previous snapshot
NO_FRAME = "no_frame"  # the frame was no longer in the ring (or never submitted)
SAVE_FAILED = "save_failed"
RING = 8  # frames kept per stream
DETECTIONS_KEPT = 16


def _key(ts_capture: float) -> float:
    return round(ts_capture, 6)  # as in the envelope


class FrameRing:
    """The last `RING` frames submitted for each snapshot stream, by capture time; safe from any thread."""

    def __init__(self, streams: set[str]) -> None:
        self._rings: dict[str, deque[Frame]] = {s: deque(maxlen=RING) for s in streams}
        self._lock = threading.Lock()

    def follow(self, streams: set[str]) -> None:
        """The streams a hot reload left taking snapshots: new ones get a ring, dropped ones lose theirs."""
        with self._lock:
            self._rings = {s: self._rings.get(s) or deque(maxlen=RING) for s in streams}

    def keep(self, job: Job) -> bool:
        """Keep the job's frame if its stream takes snapshots (any thread); always True (it goes on)."""
        ring = self._rings.get(job.stream)
        if ring is not None:
            with self._lock:
                ring.append(job.frame)
        return True

    def find(self, stream: str, ts_capture: float) -> Frame | None:
        with self._lock:
            frames = list(self._rings.get(stream, ()))
        return next((f for f in reversed(frames) if _key(f.ts_capture) == ts_capture), None)


@dataclass(frozen=True)
class Shot:
    stream: str
    ts_capture: float
    image: Image
    boxes: list[dict[str, Any]]
    crop: list[float] | None


class Snapshots:
    def __init__(
        self,
        config: SnapshotsConfig,
        base_dir: Path,
        frames: FrameRing,
        publish: Callable[[str, bytes], None],
    ) -> None:
        self.config = config
        self.dir = base_dir / config.dir
        self.frames = frames
        self.publish = publish  # (stream, jpeg): low priority, retained
        self.drops = DropCounter()
        self.taken = 0
        self._streams = set(config.streams)
        self._detections: OrderedDict[tuple[str, float], list[dict[str, Any]]] = OrderedDict()
        self._queue: asyncio.Queue[Shot] = asyncio.Queue(config.queue)
        self._counter = 0
        self._last: dict[str, float] = {}  # when each stream's last snapshot was queued

    def follow(self, streams: set[str]) -> None:
        """After a hot reload: take snapshots of these streams (the other snapshot settings apply at restart)."""
        self._streams = set(streams)
        self.frames.follow(self._streams)

    def on_envelope(self, envelope: Mapping[str, Any]) -> None:
        stream = str(envelope.get("stream", ""))
        base = stream.split(":", 1)[0]
        payload = envelope.get("payload")
        if base not in self._streams or not isinstance(payload, dict):
            return
        ts = envelope.get("ts_capture")
        if not isinstance(ts, (int, float)):
            return
        kind = envelope.get("kind")
        if kind == "detections" and stream == base:
            self._remember(base, float(ts), payload.get("detections"))
        elif (kind == "event" and payload.get("type") == "new") or kind == "alert":
            self._offer(base, float(ts), payload if kind == "event" else None)

    def _remember(self, stream: str, ts: float, detections: object) -> None:
        if isinstance(detections, list):
            self._detections[(stream, ts)] = [d for d in detections if isinstance(d, dict)]
            while len(self._detections) > DETECTIONS_KEPT:
                self._detections.popitem(last=False)

    def _offer(self, stream: str, ts: float, event: dict[str, Any] | None) -> None:
        now = time.monotonic()
        if now - self._last.get(stream, -math.inf) < self.config.min_interval_s:
            self.drops.add(RATE_CAP)
            return
        frame = self.frames.find(stream, ts)
        if frame is None:
            self.drops.add(NO_FRAME)
            return
        boxes = [event] if event is not None else self._detections.get((stream, ts), [])
        box = event.get("box") if event is not None else None
        crop = box if self.config.crop and isinstance(box, list) and len(box) == 4 else None
        try:
            self._queue.put_nowait(Shot(stream, ts, frame.image, boxes, crop))
        except asyncio.QueueFull:
            self.drops.add(QUEUE_FULL)
            return
        self._last[stream] = now

    async def run(self) -> None:
        while True:
            shot = await self._queue.get()
            jpeg = await asyncio.to_thread(self._render_and_save, shot)
            if jpeg is not None:
                self.taken += 1
                self.publish(shot.stream, jpeg)

    def _render_and_save(self, shot: Shot) -> bytes | None:
        """In a worker thread: draw, crop, encode under the cap, save, apply the retention."""
        image = annotate(shot.image.copy(), shot.boxes)
        if shot.crop is not None:
            image = crop_around(image, shot.crop)
        jpeg = jpeg_within(image, self.config.max_bytes)
        if jpeg is None:
            self.drops.add(TOO_LARGE)
            return None
        try:
            self._save(shot, jpeg)
        except OSError as exc:
            self.drops.add(SAVE_FAILED)
            log.warning("snapshot of stream %r not saved: %s", shot.stream, exc)
        return jpeg

    def _save(self, shot: Shot, jpeg: bytes) -> None:
        folder = self.dir / shot.stream
        folder.mkdir(parents=True, exist_ok=True)
        self._counter += 1
        name = f"{int(shot.ts_capture * 1000):015d}-{self._counter:06d}.jpg"
        (folder / name).write_bytes(jpeg)
        self._retain(folder)

    def _retain(self, folder: Path) -> None:
        files = sorted((p for p in folder.glob("*.jpg") if p.is_file()), key=lambda p: p.name)
        sizes = [p.stat().st_size for p in files]
        count, total = len(files), sum(sizes)
        for path, size in zip(files, sizes, strict=True):
            if count <= self.config.keep and total <= self.config.keep_bytes:
                break
            path.unlink(missing_ok=True)
            count, total = count - 1, total - size

    def snapshot(self) -> dict[str, Any]:
        return {"taken": self.taken, "drops": self.drops.snapshot()}
