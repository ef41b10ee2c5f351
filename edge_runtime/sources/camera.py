"""A live camera read by OpenCV: a USB index or /dev/videoN, an RTSP or HTTP (MJPEG) URL, or a video file.

The capture thread reads as fast as the camera delivers into the runtime's latest-frame-wins mailbox. When the
camera fails to open, ends, or delivers nothing for `stall_timeout` seconds (the stall watchdog: the read
timeout of the FFmpeg backend), the capture is released and reopened after a jittered exponential backoff.
A camera that dies never raises out of `run()`: it keeps retrying and says why in `status()`.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from pathlib import Path
from typing import Literal

import cv2
from pydantic import Field, model_validator

from cloud_sync.backoff import Backoff
from edge_runtime.channel import Channel
from edge_runtime.drops import FPS_CAP, DropCounter
from edge_runtime.frames import Item
from edge_runtime.sources._base import STALL, Stamp, one_line
from edge_runtime.sources._files import resolve
from edge_runtime.sources._pacing import Pacer, RateCap
from edge_runtime.sources._reconnect import ReconnectSettings
from edge_runtime.sources._thread import ThreadedSource

log = logging.getLogger(__name__)

_URL = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_USERINFO = re.compile(r"(://)[^/@]*@")


class CameraSourceConfig(ReconnectSettings):
    """A live camera. RTSP uses TCP first (OpenCV's FFmpeg default `rtsp_flags=prefer_tcp`)."""

    type: Literal["camera"]
    url: int | str = Field(
        description="a USB index (0), a device (/dev/video0), an rtsp:// or http(s):// URL (MJPEG), "
        "or a video file (relative to the config file; replayed at its own frame rate and reopened at its end)"
    )
    fps: float | None = Field(None, gt=0, description="frames read faster than this are skipped (counted as fps_cap)")
    width: int | None = Field(None, gt=0, description="ask a USB camera for this width (pixels)")
    height: int | None = Field(None, gt=0, description="ask a USB camera for this height (pixels)")
    stall_timeout: float = Field(5.0, gt=0, description="seconds without a frame before the connection is dropped")
    open_timeout: float = Field(10.0, gt=0, description="seconds an RTSP/HTTP open may take before it fails")

    @model_validator(mode="after")
    def _url_given(self) -> CameraSourceConfig:
        if isinstance(self.url, int) and self.url < 0:
            raise ValueError(f"url: a USB index must be >= 0 (got {self.url})")
        if isinstance(self.url, str) and not self.url.strip():
            raise ValueError("url must not be empty")
        return self


def redact(url: str) -> str:
    """The URL without credentials, for logs and status lines."""
    return _USERINFO.sub(r"\1***@", url)


class CameraSource(ThreadedSource):
    kind = "camera"

    def __init__(self, config: CameraSourceConfig, stream: str, drops: DropCounter, base_dir: Path) -> None:
        super().__init__(stream, drops)
        self.config = config
        self.target = _target(config.url, base_dir)
        self.label = redact(str(self.target))
        self.is_file = isinstance(self.target, str) and not _URL.match(self.target) and Path(self.target).is_file()
        self._rate = RateCap(config.fps)

    def capture(self, out: Channel[Item], stop: threading.Event) -> None:
        backoff = self.config.backoff()
        while not stop.is_set():
            error = self._session(out, stop, backoff)
            if stop.is_set():
                return
            self.state.failed(error)
            delay = backoff.next()
            log.warning("%s", self.describe(f"{self.label}: {error}; reconnecting in {delay:.1f} s"))
            if stop.wait(delay):
                return
            self.state.reconnecting()

    def _session(self, out: Channel[Item], stop: threading.Event, backoff: Backoff) -> str:
        """One connection: open, read until it fails; returns why it ended (one line)."""
        cap: cv2.VideoCapture | None = None
        try:
            cap = self._open()
            if not cap.isOpened():
                return "cannot open"
            self._configure(cap)
            self.state.connected()
            return self._read_frames(cap, out, stop, backoff)
        except Exception as exc:  # OpenCV raises cv2.error from odd backends; a camera must never crash the runtime
            return one_line(exc)
        finally:
            if cap is not None:
                cap.release()

    def _read_frames(self, cap: cv2.VideoCapture, out: Channel[Item], stop: threading.Event, backoff: Backoff) -> str:
        pacer = Pacer(_native_fps(cap) if self.is_file else None)
        last = time.monotonic()
        while pacer.wait(stop):
            ok, image = cap.read()
            stamp = Stamp.now()
            if not ok or image is None:
                quiet = stamp.t - last
                if quiet >= 0.9 * self.config.stall_timeout:
                    error = f"stalled: no frame for {quiet:.1f} s"
                    self.state.failed(error)  # first: whoever sees the stall counted sees the status say so
                    self.drops.add(STALL)
                    return error
                return "stream ended"
            backoff.reset()
            last = stamp.t
            if not self._rate.admit(stamp.t):
                self.drops.add(FPS_CAP)
                continue
            self.emit(out, self.make_frame(image, stamp), stop)
        return "stopped"

    def _open(self) -> cv2.VideoCapture:
        if isinstance(self.target, int) or self.target.startswith("/dev/"):
            return cv2.VideoCapture(self.target)
        params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            int(self.config.open_timeout * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            int(self.config.stall_timeout * 1000),
        ]
        return cv2.VideoCapture(self.target, cv2.CAP_FFMPEG, params)

    def _configure(self, cap: cv2.VideoCapture) -> None:
        if self.config.width is not None:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self.config.width)
        if self.config.height is not None:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self.config.height)
        if isinstance(self.target, int) or self.target.startswith("/dev/"):
            cap.set(cv2.CAP_PROP_READ_TIMEOUT_MSEC, self.config.stall_timeout * 1000)  # where the backend has it


def _target(url: int | str, base_dir: Path) -> int | str:
    """What OpenCV opens: an index, a device, a URL as given, or a file resolved against the config's directory."""
    if isinstance(url, int):
        return url
    text = url.strip()
    if text.isdigit():
        return int(text)
    if _URL.match(text) or text.startswith("/dev/"):
        return text
    return str(resolve(text, base_dir))


def _native_fps(cap: cv2.VideoCapture) -> float:
    fps = float(cap.get(cv2.CAP_PROP_FPS))
    return fps if 0 < fps < 1000 else 25.0
