"""Per-stream run-time controls (detection on/off, an fps below the configured one), set from the outside.

The channel consults `admit()` before it counts a frame as offered: a frame the control holds back never enters
the stream, so it is neither submitted to the accelerator nor counted as a drop. Thread-safe: the capture thread
asks, the event loop sets.
"""

from __future__ import annotations

import threading
import time

from edge_runtime.sources._pacing import RateCap
from edge_runtime.stats import StreamStats


class StreamControl:
    """`detect` off: no frame is admitted; `fps` (None: the source's own rate) caps how many are."""

    def __init__(self, stats: StreamStats, max_fps: float | None) -> None:
        self.stats = stats
        self.stream = stats.stream
        self.max_fps = max_fps
        self._detect = True
        self._fps: float | None = None
        self._cap = RateCap(None)
        self._lock = threading.Lock()

    @property
    def detect(self) -> bool:
        return self._detect

    @property
    def fps(self) -> float | None:
        return self._fps

    @property
    def status(self) -> str:
        return self.stats.status

    def set_detect(self, on: bool) -> None:
        self._detect = on
        self.stats.status = "running" if on else "disabled"

    def set_fps(self, fps: float | None) -> float | None:
        """Cap the stream's rate at `fps`, bounded by the configured rate; returns the rate now in force."""
        if fps is not None and self.max_fps is not None:
            fps = min(fps, self.max_fps)
        with self._lock:
            self._fps = fps
            self._cap = RateCap(fps)
        return fps

    def admit(self) -> bool:
        if not self._detect:
            return False
        with self._lock:
            return self._cap.admit(time.monotonic())
