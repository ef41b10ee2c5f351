"""Running a cascade for one frame: select detections, submit their crops, wait for all or the deadline.

Crops are the stream's own jobs: they go through the accelerator service with the stream's class and the
frame's deadline. Each crop index of a cascade is its own scheduler slot (``<stream>/<stage>#<i>``), so the
crops of one frame never supersede each other, while a newer frame's crop supersedes a queued older one.
A frame's result goes on when all its crops are done, or at its deadline: the crops still missing then are
counted ``crop_stale`` (and their late outcomes ignored), so every crop ends exactly once.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from edge_runtime.cascade._config import CascadeOnConfig, CropConfig
from edge_runtime.cascade._crops import Box, crop_box, cut, to_frame
from edge_runtime.drops import SHUTDOWN
from edge_runtime.frames import Frame
from edge_runtime.jobs import Completed, Job, Outcome
from edge_runtime.stats import CropStats

CROP_STALE = "crop_stale"  # the frame's deadline came before this crop's result

Submit = Callable[[Job], "asyncio.Future[Outcome]"]
Detection = dict[str, Any]


@dataclass
class CascadeStep:
    """One cascade stage of a stream: its model, which detections it takes, and its crop accounting."""

    name: str
    stream: str
    model: str
    on: CascadeOnConfig
    crop: CropConfig
    deadline_ms: float | None
    submit: Submit
    stats: CropStats = field(default_factory=CropStats)

    @property
    def slots(self) -> list[str]:
        """The scheduler streams of this cascade's crops, one per crop index of a frame."""
        return [f"{self.stream}/{self.name}#{i}" for i in range(self.on.max_per_frame)]

    def select(self, detections: list[Detection]) -> list[Detection]:
        """The detections that get a crop: wanted labels, scored high enough, best first, at most max_per_frame."""
        labels = self.on.labels
        chosen = [d for d in detections if d["score"] >= self.on.min_score and (labels is None or d["label"] in labels)]
        return sorted(chosen, key=lambda d: -float(d["score"]))[: self.on.max_per_frame]

    async def run(self, frame: Frame, detections: list[Detection]) -> list[Detection]:
        """Nest each chosen detection's crop result under it as ``sub``; returns the sub-detections found."""
        chosen = self.select(detections)
        if not chosen:
            return []
        self.stats.offer(len(chosen))
        deadline = frame.t_capture + self.deadline_ms / 1e3 if self.deadline_ms else math.inf
        pending = [self._submit(frame, slot, d) for slot, d in zip(self.slots, chosen, strict=False)]
        timeout = None if math.isinf(deadline) else max(0.0, deadline - time.monotonic())
        try:
            await asyncio.wait([future for _, _, future in pending], timeout=timeout)
        except asyncio.CancelledError:
            self.stats.drops.add(SHUTDOWN, sum(1 for *_, f in pending if not f.done()))
            raise
        return [sub for d, box, future in pending for sub in self._settle(d, box, future)]

    def _submit(self, frame: Frame, slot: str, detection: Detection) -> tuple[Detection, Box, asyncio.Future[Outcome]]:
        """The crop as a frame of the slot's stream, with the frame's capture time (the deadline counts from it)."""
        box = crop_box(detection["box"], frame.image.shape, self.crop)
        image = cut(frame.image, box)
        crop = Frame(slot, frame.seq, frame.ts_capture, frame.t_capture, image, frame.source, frame.frame)
        return detection, box, self.submit(Job(self.model, crop))

    def _settle(self, detection: Detection, box: Box, future: asyncio.Future[Outcome]) -> list[Detection]:
        if not future.done():
            self.stats.drops.add(CROP_STALE)
            return []
        outcome = future.result()
        if not isinstance(outcome, Completed):
            self.stats.drops.add(outcome.reason)
            return []
        self.stats.complete()
        payload = to_frame(outcome.kind, outcome.payload, box)
        detection["sub"] = {"model": outcome.model.name, "kind": outcome.kind, "payload": payload}
        found: list[Detection] = payload.get("detections", []) if outcome.kind == "detections" else []
        return found


async def run_cascades(steps: list[CascadeStep], frame: Frame, payload: dict[str, Any]) -> None:
    """Each cascade on the detections of the one before it (the first on the detector's)."""
    detections: list[Detection] = payload.get("detections", [])
    for step in steps:
        if not detections:
            return
        detections = await step.run(frame, detections)
