"""What every stage that derives new results shares: a name, its own stream and its own numbering.

A derived result travels on the stream ``<source stream>:<stage name>`` (``porch:counts``) with a sequence
number of its own, so ``(device, boot_id, stream, seq)`` stays unique: a window numbered 7 never collides
with detection 7 of the source stream.
"""

from __future__ import annotations

import time
from typing import Any

from pydantic import Field

from edge_runtime.drops import DropCounter
from edge_runtime.results import ModelRef, Result
from edge_runtime.sections import StrictModel
from edge_runtime.stages._base import Stage

NAME_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
NAME_DESCRIPTION = (
    "Unique within the pipeline; derived results travel on the stream '<stream>:<name>'. "
    "Letters, digits, '_', '.', '-'; defaults to the stage type."
)


def derived_stream(stream: str, stage: str) -> str:
    """The stream of the results a stage derives from `stream`."""
    return f"{stream}:{stage}"


class DerivingConfig(StrictModel):
    """Options every deriving stage (window, debounce, threshold, tracker) has."""

    forward: bool = Field(
        True, description="Pass the consumed results on as well as the derived ones; false keeps only the derived."
    )


class DerivingStage(Stage):
    """A stage that numbers the results it makes on a stream of its own and counts what it drops."""

    def __init__(self, name: str, stream: str, forward: bool) -> None:
        super().__init__(name, stream)
        self.out_stream = derived_stream(stream, name)
        self.forward = forward
        self.drops = DropCounter()
        self._seq = 0

    def passed(self, result: Result) -> list[Result]:
        """What goes on of a consumed result: itself when forwarding."""
        return [result] if self.forward else []

    def derive(
        self,
        kind: str,
        payload: dict[str, Any],
        ts_capture: float,
        t_capture: float | None = None,
        model: ModelRef | None = None,
    ) -> Result:
        """A new result on this stage's stream with the next sequence number."""
        self._seq += 1
        return Result(
            stream=self.out_stream,
            seq=self._seq,
            ts_capture=ts_capture,
            t_capture=time.monotonic() if t_capture is None else t_capture,
            ts_result=time.time(),
            kind=kind,
            payload=payload,
            model=model,
            extra={"stage": self.name, "source_stream": self.stream},
        )
