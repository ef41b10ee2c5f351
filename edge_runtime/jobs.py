"""The seam between streams, the accelerator service and models.

A stream submits a `Job`; the accelerator service decides when (or whether) it runs and resolves it with
`Completed` or `Dropped`. A lane thread runs the job on a `Runner`: one loaded interpreter of a model, made
by that model's `ModelHandle` inside the lane thread. Swapping a model means replacing its handle: jobs already
on a lane finish on the old runner, the next ones get a runner of the new handle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from edge_runtime.frames import Frame
from edge_runtime.results import ModelRef

# Entries a stream's dispatch may queue for its collect. With the frame collect awaits and the one dispatch holds
# while the queue is full, a stream has at most this + 2 jobs submitted and not yet collected.
STREAM_INFLIGHT = 4


class Runner(Protocol):
    """One interpreter instance of a model, used by one lane thread at a time, in three steps.

    The lane drives the steps itself: it wakes the event loop for the previous job's outcome between `preprocess`
    and `invoke`, so the loop works while `invoke()` runs without the GIL. `run` is the three steps in order, for
    callers that want one call (implementations subclass `Runner` to inherit it).
    """

    def preprocess(self, frame: Frame) -> Any:
        """Fill the interpreter's input from the frame; returns what `decode` needs (e.g. the letterbox)."""
        ...

    def invoke(self) -> None: ...

    def decode(self, state: Any) -> tuple[str, dict[str, Any]]:
        """(kind, payload) of the last invoke, e.g. ("detections", {"detections": [...]})."""
        ...

    def run(self, frame: Frame) -> tuple[str, dict[str, Any]]:
        state = self.preprocess(frame)
        self.invoke()
        return self.decode(state)


class ModelHandle(Protocol):
    """A loaded, verified model version that can make runners."""

    @property
    def ref(self) -> ModelRef: ...

    def instantiate(self) -> Runner:
        """Make a new interpreter for this model (called in the lane thread that will use it)."""
        ...


@dataclass(frozen=True, slots=True)
class Job:
    """Run `model` on `frame`. The frame names the stream and carries the capture time the deadline counts from;
    the stream's class and deadline are the scheduler's (`AcceleratorService.register_stream`)."""

    model: str
    frame: Frame

    @property
    def stream(self) -> str:
        return self.frame.stream


@dataclass(frozen=True, slots=True)
class Completed:
    kind: str
    payload: dict[str, Any]
    model: ModelRef
    queue_wait: float  # seconds from submit to dispatch
    service: float  # seconds on the lane


@dataclass(frozen=True, slots=True)
class Dropped:
    reason: str  # superseded | stale | queue_full | error | shutdown
    detail: str = ""


Outcome = Completed | Dropped
