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
from edge_runtime.sections import Priority


class Runner(Protocol):
    """One interpreter instance of a model; used by one lane thread at a time.

    A runner may also offer `preprocess(image) -> state`, `invoke()` and `decode(state) -> (kind, payload)`
    (`edge_runtime.scheduler.StagedRunner`, as TFLite runners do): the lane then drives the steps itself and
    hands the previous outcome to the event loop while `invoke()` runs without the GIL.
    """

    def run(self, frame: Frame) -> tuple[str, dict[str, Any]]:
        """Preprocess, invoke, decode: returns (kind, payload), e.g. ("detections", {"detections": [...]})."""
        ...


class ModelHandle(Protocol):
    """A loaded, verified model version that can make runners."""

    @property
    def ref(self) -> ModelRef: ...

    def instantiate(self) -> Runner:
        """Make a new interpreter for this model (called in the lane thread that will use it)."""
        ...


@dataclass(frozen=True, slots=True)
class Job:
    stream: str
    seq: int
    priority: Priority
    t_capture: float  # monotonic
    deadline: float  # monotonic time after which the job must not start; math.inf for none
    model: str
    frame: Frame


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
