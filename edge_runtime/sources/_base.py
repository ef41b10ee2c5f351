"""The contract of a source: it produces frames or readings for one stream into a channel the runtime owns.

A source is built from its config by `build_source`, then the runtime calls `channel_policy()` to make the
channel, runs `run(channel)` as a named task, and shows `status()` in the status line. `run` returns when a
finite source is exhausted and otherwise runs until it is cancelled; the owner of the channel closes it.
"""

from __future__ import annotations

import itertools
import threading
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, cast

import numpy as np
import numpy.typing as npt

from edge_runtime.channel import Channel, Overflow
from edge_runtime.drops import DropCounter
from edge_runtime.frames import Frame, Image, Item, Reading

# Drop reasons the sources add (next to the runtime's own in edge_runtime.drops).
STALL = "stall"  # a live source delivered nothing for `stall_timeout` seconds: the connection is dropped
BAD_MESSAGE = "bad_message"  # a sensor message that is not a number or JSON with numbers
UNREADABLE = "unreadable"  # an image file that cannot be decoded


def one_line(exc: BaseException) -> str:
    """An exception as one line for logs and `status()`: its type and the last line of its message."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[-1].strip()}" if lines else type(exc).__name__


class SourceError(Exception):
    """A user mistake found when building or starting a source (no such file, nothing matches a glob)."""


@dataclass(frozen=True, slots=True)
class ChannelPolicy:
    """The channel a source wants: its capacity, who loses on overflow, and whether the source waits for space.

    Live sources (cameras) want a capacity-1 ``drop_oldest`` mailbox: the newest frame wins. Sensors want a
    bounded ``drop_newest`` buffer. File sources that must not lose frames set ``blocking``: their capture
    thread waits for room instead of overflowing, so the file is read as fast as the consumer takes it.
    """

    capacity: int
    overflow: Overflow
    blocking: bool = False


MAILBOX = ChannelPolicy(capacity=1, overflow="drop_oldest")
BACKPRESSURE = ChannelPolicy(capacity=2, overflow="drop_newest", blocking=True)
SENSOR_BUFFER = ChannelPolicy(capacity=64, overflow="drop_newest")


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """A snapshot for the status line: is it connected, how often it reconnected, items read, last error."""

    connected: bool
    reconnects: int
    items: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class Stamp:
    """When an item was captured: wall clock for the envelope, monotonic for latency and deadlines."""

    ts: float
    t: float

    @classmethod
    def now(cls) -> Stamp:
        return cls(ts=time.time(), t=time.monotonic())


class SourceState:
    """Thread-safe counters behind `Source.status()`, updated from the capture thread or the event loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._connected = False
        self._reconnects = 0
        self._items = 0
        self._last_error: str | None = None

    def connected(self) -> None:
        with self._lock:
            self._connected = True

    def ended(self) -> None:
        """A finite source is exhausted: not connected, and no error."""
        with self._lock:
            self._connected = False

    def failed(self, error: str) -> None:
        """The connection is gone (or never came up); `error` is one line."""
        with self._lock:
            self._connected = False
            self._last_error = error

    def error(self, error: str) -> None:
        """Something went wrong that did not cost the connection (an unreadable file, a bad message)."""
        with self._lock:
            self._last_error = error

    def reconnecting(self) -> None:
        with self._lock:
            self._reconnects += 1

    def item(self) -> None:
        with self._lock:
            self._items += 1

    def snapshot(self) -> SourceStatus:
        with self._lock:
            return SourceStatus(self._connected, self._reconnects, self._items, self._last_error)


class Source(ABC):
    """One stream's producer. `name` is the stream name; every item carries it and a per-stream `seq` from 0."""

    kind: ClassVar[str]

    def __init__(self, stream: str, drops: DropCounter) -> None:
        self.name = stream
        self.drops = drops
        self.state = SourceState()
        self._seq = itertools.count()

    def channel_policy(self) -> ChannelPolicy:
        """The channel this source wants (default: the latest-wins mailbox)."""
        return MAILBOX

    def make_channel(self) -> Channel[Item]:
        """A channel following `channel_policy()`, counting its overflow drops in this stream's counter."""
        policy = self.channel_policy()
        return Channel(policy.capacity, policy.overflow, self.drops)

    @abstractmethod
    async def run(self, out: Channel[Item]) -> None:
        """Produce into `out` until cancelled, or return once a finite source is exhausted."""

    def status(self) -> SourceStatus:
        return self.state.snapshot()

    def make_frame(
        self, image: npt.NDArray[Any], stamp: Stamp, source: str | None = None, frame: int | None = None
    ) -> Frame:
        if image.dtype != np.uint8:
            raise TypeError(f"a frame must be uint8, got {image.dtype}")
        return Frame(self.name, next(self._seq), stamp.ts, stamp.t, cast(Image, image), source=source, frame=frame)

    def make_reading(self, values: dict[str, float], stamp: Stamp, source: str | None = None) -> Reading:
        return Reading(self.name, next(self._seq), stamp.ts, stamp.t, values, source=source)

    def describe(self, what: str) -> str:
        """`stream 'porch' camera: <what>`: how every log line and error of a source starts."""
        return f"stream '{self.name}' {self.kind}: {what}"
