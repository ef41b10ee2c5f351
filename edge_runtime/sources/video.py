"""A video file replayed as a stream: in real time (like a camera) or frame by frame as fast as it is consumed."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Literal

import cv2
from pydantic import Field

from edge_runtime.channel import Channel
from edge_runtime.drops import FPS_CAP, DropCounter
from edge_runtime.frames import Item
from edge_runtime.sections import StrictModel
from edge_runtime.sources._base import BACKPRESSURE, MAILBOX, ChannelPolicy, SourceError, Stamp
from edge_runtime.sources._files import display_name, resolve
from edge_runtime.sources._pacing import Pacer, RateCap
from edge_runtime.sources._thread import ThreadedSource


class VideoSourceConfig(StrictModel):
    """A video file. Each frame names the file (`source`) and its index in the file (`frame`)."""

    type: Literal["video"]
    path: str = Field(min_length=1, description="the video file, relative to the config file's directory")
    realtime: bool = Field(
        True,
        description="true: frames come at the file's own frame rate and a slow pipeline sees only the newest, "
        "as with a camera; false: every frame is delivered, as fast as the pipeline takes them",
    )
    loop: bool = Field(False, description="start again at the end instead of finishing")
    fps: float | None = Field(
        None,
        gt=0,
        description="realtime: frames beyond this rate are skipped (counted as fps_cap); "
        "otherwise: at most this many frames per second, none skipped",
    )


class VideoSource(ThreadedSource):
    kind = "video"

    def __init__(self, config: VideoSourceConfig, stream: str, drops: DropCounter, base_dir: Path) -> None:
        super().__init__(stream, drops)
        self.config = config
        self.path = resolve(config.path, base_dir)
        self.label = display_name(self.path, base_dir)
        if not self.path.is_file():
            raise SourceError(self.describe(f"no such video file: {self.path}"))

    def channel_policy(self) -> ChannelPolicy:
        return MAILBOX if self.config.realtime else BACKPRESSURE

    def capture(self, out: Channel[Item], stop: threading.Event) -> None:
        rates: tuple[Pacer, RateCap] | None = None
        while not stop.is_set():
            cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
            try:
                if not cap.isOpened():
                    raise SourceError(self.describe(f"cannot decode {self.label}"))
                self.state.connected()
                rates = rates or self._rates(float(cap.get(cv2.CAP_PROP_FPS)))
                played = self._play(cap, out, stop, *rates)
            finally:
                cap.release()
            if not self.config.loop:
                break
            if played == 0:
                raise SourceError(self.describe(f"{self.label} has no frames to loop over"))
        self.state.ended()

    def _rates(self, native_fps: float) -> tuple[Pacer, RateCap]:
        if not self.config.realtime:
            return Pacer(self.config.fps), RateCap(None)
        return Pacer(native_fps if 0 < native_fps < 1000 else 25.0), RateCap(self.config.fps)

    def _play(
        self, cap: cv2.VideoCapture, out: Channel[Item], stop: threading.Event, pacer: Pacer, rate: RateCap
    ) -> int:
        """One pass over the file; returns how many frames it had."""
        index = 0
        while pacer.wait(stop):
            if not rate.admit(time.monotonic()):
                if not cap.grab():
                    break
                self.drops.add(FPS_CAP)
                index += 1
                continue
            ok, image = cap.read()
            if not ok or image is None:
                break
            self.emit(out, self.make_frame(image, Stamp.now(), self.label, index), stop)
            index += 1
        return index
