"""An accelerator lane: one named thread with its own interpreters, running one job at a time.

The lane asks the dispatcher for its next job (`next_for`) the moment it is free, and reports the one it
finished in the same call, so the event loop is not between two jobs. Each lane makes its own runner per model,
in its own thread, the first time it runs that model's current handle; when a model's handle is replaced, the lane
drops the old runner after the job it may be running on it (a `forget`).

A runner is driven step by step (preprocess, invoke, decode: the `Runner` contract), so the lane can wake the loop
for the previous job's outcome between preprocess and invoke: the loop then works while `invoke()` has released the
GIL, instead of taking the GIL from the lane.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

from edge_runtime.jobs import ModelHandle, Runner
from edge_runtime.scheduler._tickets import LOWEST_RANK, Ticket
from edge_runtime.sections import PRIORITIES

LaneOutput = tuple[str, dict[str, Any]] | Exception
Clock = Callable[[], float]
Forget = tuple[str, ModelHandle]  # drop the runner of this model unless it was made by this (current) handle
NextFor = Callable[["Lane", "Finished | None"], "Next"]


@dataclass(slots=True, eq=False)
class Assignment:
    """A job in a lane's hands: the ticket, the model handle it runs on, and when it was dispatched."""

    ticket: Ticket[Any]
    handle: ModelHandle
    dispatched: float
    abandoned: bool = False  # resolved at stop while still running: its report is ignored
    started: float | None = None  # when the run began, once the lane had its runner (the watchdog's clock)
    alone: bool = False  # taken by an idle lane: a reserved one then holds the lower classes back (`reserved_alone`)


class Next(NamedTuple):
    """What the dispatcher hands a free lane: a job and/or models to forget (neither: stop), and whether the lane
    owes the loop a wake-up for the reports waiting there."""

    assignment: Assignment | None
    forgets: list[Forget]
    owed: bool


@dataclass(frozen=True, slots=True)
class Finished:
    """A lane ran a job: its output (or the runner's exception) and the seconds it took."""

    lane: Lane
    assignment: Assignment
    output: LaneOutput
    service: float


class Lane:
    """`limit`: the lowest class (as a rank) this lane takes; a reserved lane takes only its class and above.

    `current`, `waiting`, `recheck_at`, `wait_until` and `forgets` belong to the dispatcher's lock; `jobs`,
    `errors`, `busy_s` to the loop.
    """

    def __init__(self, index: int, limit: int, lock: threading.Lock, clock: Clock, nice: int = 0) -> None:
        self.index = index
        self.name = f"lane-{index}"
        self.limit = limit
        self.nice = nice  # added to the thread's OS nice value (and its interpreters' worker threads', made in it)
        self.retired = False  # replaced by the watchdog: the thread ends once its stuck job returns (if ever)
        self.wake = threading.Condition(lock)
        self.current: Assignment | None = None
        self.waiting = False
        self.recheck_at: float | None = None  # kept free for an anticipated frame: look again then if it is late
        self.wait_until: float | None = None  # the `recheck_at` a waiting lane sleeps until (None: until woken)
        self.forgets: list[Forget] = []
        self.jobs = 0
        self.errors = 0
        self.busy_s = 0.0
        self.stuck = 0
        self._clock = clock
        self._runners: dict[str, tuple[ModelHandle, Runner]] = {}  # lane thread only
        self._thread: threading.Thread | None = None

    def start(self, next_for: NextFor, tell_loop: Callable[[], None]) -> None:
        name = self.name if not self.stuck else f"{self.name}.{self.stuck}"  # a fresh lane after `stuck` stalls
        self._thread = threading.Thread(target=self._main, args=(next_for, tell_loop), name=name, daemon=True)
        self._thread.start()

    def join(self, timeout: float) -> bool:
        """Wait up to `timeout` s for the thread to end; True when it has."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def snapshot(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "takes": "all" if self.limit == LOWEST_RANK else f"{PRIORITIES[self.limit]} and above",
            "busy": self.current is not None,
            "jobs": self.jobs,
            "errors": self.errors,
            "busy_s": round(self.busy_s, 3),
            "stuck": self.stuck,
            "nice": self.nice,
        }

    def _main(self, next_for: NextFor, tell_loop: Callable[[], None]) -> None:
        if self.nice:
            _lower_priority(self.nice)
        try:
            self._serve(next_for, tell_loop)
        finally:
            self._runners.clear()  # free the interpreters with the thread

    def _serve(self, next_for: NextFor, tell_loop: Callable[[], None]) -> None:
        clock = self._clock
        finished: Finished | None = None
        while True:
            assignment, forgets, owed = next_for(self, finished)
            finished = None
            for model, current in forgets:
                self._forget(model, current)
            if assignment is None:
                if owed:
                    tell_loop()
                if not forgets:
                    return  # stopped
                continue
            start = clock()
            output = self._run(assignment, _Once(tell_loop) if owed else _NOTHING)
            finished = Finished(self, assignment, output, clock() - start)

    def _run(self, assignment: Assignment, tell_loop: _Once) -> LaneOutput:
        """Run the job; `tell_loop` just before the lane blocks on the model (or a runner is made)."""
        job = assignment.ticket.job
        try:
            held = self._runners.get(job.model)
            if held is None or held[0] is not assignment.handle:
                tell_loop()  # making a runner takes a while
                held = self._make_runner(job.model, assignment.handle)
            runner = held[1]
            assignment.started = self._clock()
            state = runner.preprocess(job.frame)
            tell_loop()
            runner.invoke()
            return runner.decode(state)
        except Exception as exc:  # the service reports it and keeps going
            return exc
        finally:
            tell_loop()

    def _forget(self, model: str, current: ModelHandle) -> None:
        held = self._runners.get(model)
        if held is not None and held[0] is not current:
            del self._runners[model]

    def _make_runner(self, model: str, handle: ModelHandle) -> tuple[ModelHandle, Runner]:
        held = (handle, handle.instantiate())
        self._runners[model] = held
        return held


def _lower_priority(nice: int) -> None:
    """Raise this thread's nice value by `nice` (Linux: a per-thread attribute, inherited by the threads it starts;
    raising it needs no privilege). Elsewhere, or if refused, the thread keeps its priority."""
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + nice)
    except (OSError, AttributeError):
        pass


class _Once:
    """Calls `call` the first time it is called, then never again."""

    __slots__ = ("_call",)

    def __init__(self, call: Callable[[], None] | None) -> None:
        self._call = call

    def __call__(self) -> None:
        call, self._call = self._call, None
        if call is not None:
            call()


_NOTHING = _Once(None)
