"""The contract of a gate: before `infer`, say whether a frame is worth the accelerator.

A frame a gate keeps closed is not submitted: it ends as `gated` (beside `completed` and the drop reasons),
so ``offered == completed + gated + drops`` still holds. Gates run on the stream's dispatch path, one frame at
a time, in a worker thread (OpenCV releases the GIL); their cost per frame is measured and shown in the stats.
"""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod

from edge_runtime.frames import Frame
from edge_runtime.stats import StreamStats

log = logging.getLogger("edge_runtime.gates")

ERROR_REPORT_EVERY_S = 10.0


class Gate(ABC):
    """One named gate stage of a stream."""

    def __init__(self, name: str, stream: str) -> None:
        self.name = name
        self.stream = stream
        self.errors = 0
        self._last_report = -ERROR_REPORT_EVERY_S

    def failed(self, exc: Exception, now: float) -> None:
        """Count a failure; log it at most once every ERROR_REPORT_EVERY_S, with how many came in between."""
        self.errors += 1
        if now - self._last_report >= ERROR_REPORT_EVERY_S:
            self._last_report = now
            log.error("stream %r gate %r: %s: %s (%d failures so far)", self.stream, self.name,
                      type(exc).__name__, exc, self.errors)  # fmt: skip

    @abstractmethod
    def opens(self, frame: Frame, now: float) -> bool:
        """True when ``frame`` goes on to `infer`; ``now`` is time.monotonic()."""

    async def run(self) -> None:  # noqa: B027 - optional hook
        """Background work (a sensor's subscription) owned by the runtime's task group. Default: nothing."""


def check_gates(gates: list[Gate], frame: Frame, stats: StreamStats) -> bool:
    """True when every gate opens for ``frame`` (in order; the first closed one decides). Its cost is recorded.

    A gate that fails is logged and treated as open: a broken gate must not blind the stream.
    """
    start = time.perf_counter()
    try:
        for gate in gates:
            now = time.monotonic()
            try:
                if not gate.opens(frame, now):
                    return False
            except Exception as exc:  # a broken gate must not blind the stream: the frame goes on
                gate.failed(exc, now)
        return True
    finally:
        stats.gate_cost.add(time.perf_counter() - start)
