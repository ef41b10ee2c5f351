"""What every config section stands on: the strict base model, the scheduling classes, the accelerator section.

This sits below `edge_runtime.config` (the top, which imports every section: sources, stages, models, sinks) and
below the sections themselves, so imports run one way: sections -> this module, config -> sections.
The classes (`Priority`, `PRIORITIES`, most urgent first) are cloud_sync's one table, shared with the outbox.
"""

from __future__ import annotations

import os
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cloud_sync.envelope import PRIORITIES, Priority

__all__ = ["PRIORITIES", "AcceleratorConfig", "Priority", "StrictModel", "WatchdogConfig"]

_DEFAULT_BOUNDS: dict[Priority, int] = {"critical": 8, "high": 16, "normal": 32, "low": 64}
AUTO_THREADS_MAX = 4  # beyond this a small model gains little, and capture and the event loop need a core too


def usable_cores() -> int:
    """The CPUs this process may run on (its affinity, which a container or `taskset` may narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


class StrictModel(BaseModel):
    """A config section: immutable after load, and a misspelt key is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class WatchdogConfig(StrictModel):
    """A job on a lane longer than max(factor x its model's p99, floor_ms) means the lane is stuck."""

    enabled: bool = Field(True, description="Replace a stuck lane with a fresh one (false: wait for it).")
    factor: float = Field(10.0, gt=1, le=1000, description="Times the model's p99 service time a job may take.")
    floor_ms: float = Field(2000.0, ge=10, le=600_000, description="The least a job may take before it is stuck.")
    unhealthy_after: int = Field(
        3, ge=1, le=100, description="Stalls of one model in a row that mark it unhealthy: its jobs then back off."
    )
    backoff_max_s: float = Field(60.0, gt=0, le=3600, description="Longest pause of an unhealthy model's jobs.")


class AcceleratorConfig(StrictModel):
    """One accelerator service runs every inference of every stream."""

    delegate: Literal["xnnpack", "edgetpu", "none"] = Field(
        "xnnpack", description="xnnpack: the CPU fast path; edgetpu: a Coral via libedgetpu.so.1; none: plain CPU."
    )
    fallback: Literal["cpu", "none"] = Field(
        "none", description="When the delegate cannot load: cpu runs on the CPU instead (and says so); none stops."
    )
    threads: Annotated[int, Field(ge=1, le=64)] | Literal["auto"] = Field(
        "auto",
        description="CPU threads of each interpreter; auto: the usable cores divided by the lanes, so lanes never "
        f"fight over a core (at least 1, at most {AUTO_THREADS_MAX}).",
    )
    lanes: int = Field(1, ge=1, le=16, description="Interpreter instances run in parallel, one thread each.")
    policy: Literal["priority", "fifo"] = Field(
        "priority", description="priority: class, then earliest deadline; fifo: arrival order, for comparison."
    )
    reserve: dict[Priority, Annotated[int, Field(ge=0)]] = Field(
        default_factory=dict, description="Lanes kept for a class and above, e.g. {critical: 1}."
    )
    reserved_alone: bool = Field(
        True,
        description="While a reserved lane runs a job it took when idle, the other lanes start no job of a lower "
        "class: the reserved class's frame has the memory bandwidth and caches to itself instead of sharing them "
        "with a lower class's invoke (the lower classes lose at most the reserved lanes' busy time; a reserved "
        "class with a backlog holds nobody). And the lanes that take every class run at a lower OS priority "
        "(nice +10), so on busy cores the kernel runs a reserved lane's thread first.",
    )
    anticipate: bool = Field(
        True,
        description="With the priority policy: when a higher-class stream's frames come at a steady rate and its "
        "next one is due, a free lane starts no lower-class job that would run into that frame by more than half "
        "of itself, and waits for the frame instead (no invoke can be interrupted); it gives up once the frame is "
        "late by a lower-class job. Only where a lower-class job is at most 15% of the stream's period, and not "
        "for a class with a reserved lane.",
    )
    queue_bounds: dict[Priority, Annotated[int, Field(ge=1)]] = Field(
        default_factory=lambda: dict(_DEFAULT_BOUNDS),
        description="Frames a class may have queued; a frame over the bound is dropped as queue_full.",
    )

    watchdog: WatchdogConfig = Field(default_factory=WatchdogConfig, description="The stuck-lane watchdog.")

    @field_validator("threads", mode="before")
    @classmethod
    def _threads_or_auto(cls, value: object) -> object:
        """One message for a bad value, not one per branch of the union."""
        if value == "auto" or (isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 64):
            return value
        raise ValueError(f"must be a whole number from 1 to 64, or auto (got {value!r})")

    @property
    def interpreter_threads(self) -> int:
        """The threads each interpreter runs: `threads`, or what `auto` chooses on this machine."""
        if isinstance(self.threads, int):
            return self.threads
        return max(1, min(AUTO_THREADS_MAX, usable_cores() // self.lanes))

    def threads_chosen(self) -> str:
        """One line saying how many lanes and threads run, and why (logged at start)."""
        how = (
            f"auto: {usable_cores()} usable core(s) / {self.lanes} lane(s)"
            if self.threads == "auto"
            else "as configured"
        )
        return f"{self.lanes} lane(s) x {self.interpreter_threads} interpreter thread(s) ({how})"

    @model_validator(mode="after")
    def _one_lane_takes_every_class(self) -> AcceleratorConfig:
        reserved = sum(self.reserve.values())
        exclusive = sum(n for p, n in self.reserve.items() if p != "low")  # a lane kept for `low` takes everything
        if reserved > self.lanes or exclusive >= self.lanes:
            raise ValueError(
                f"reserve: {reserved} of {self.lanes} lanes reserved; leave at least one lane that takes every class"
            )
        return self
