"""What sources produce: camera frames and sensor readings, each stamped at capture."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True)
class Frame:
    """One image from a source. `image` is HxWx3 uint8 in BGR order (OpenCV's)."""

    stream: str
    seq: int
    ts_capture: float  # wall clock (time.time()) at capture, for the envelope
    t_capture: float  # time.monotonic() at capture, for latency and deadlines
    image: Image
    source: str | None = None  # the file name for file-based sources
    frame: int | None = None  # the frame index within that file


@dataclass(frozen=True, slots=True)
class Reading:
    """One sensor reading: named numeric values."""

    stream: str
    seq: int
    ts_capture: float
    t_capture: float
    values: dict[str, float] = field(default_factory=dict)
    source: str | None = None


Item = Frame | Reading
