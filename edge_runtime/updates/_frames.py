"""The few most recent frames of each model, kept for the canary of a new version of that model."""

from __future__ import annotations

import threading
from collections import deque

from edge_runtime.frames import Frame
from edge_runtime.jobs import Job


class RecentFrames:
    """A ring of the last `size` frames per model (older ones are overwritten); safe from any thread."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._frames: dict[str, deque[Frame]] = {}

    def add(self, model: str, frame: Frame) -> None:
        with self._lock:
            ring = self._frames.get(model)
            if ring is None:
                ring = self._frames[model] = deque(maxlen=self.size)
            ring.append(frame)

    def get(self, model: str, count: int | None = None) -> list[Frame]:
        """The newest `count` frames of `model` (all kept when None), oldest first."""
        with self._lock:
            frames = list(self._frames.get(model, ()))
        return frames if count is None else frames[-count:] if count else []

    def keep(self, job: Job) -> bool:
        """Keep the job's frame (any thread: a capture thread on the direct path); always True (it goes on)."""
        self.add(job.model, job.frame)
        return True
