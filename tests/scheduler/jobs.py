"""Small real jobs, runners and model handles for the scheduler tests."""

from __future__ import annotations

import threading
import time
import weakref
from typing import Any

import numpy as np

from edge_runtime.frames import Frame
from edge_runtime.jobs import Job, Runner
from edge_runtime.results import ModelRef

PIXEL = np.zeros((1, 1, 3), dtype=np.uint8)


def make_job(stream: str, seq: int, t_capture: float, *, model: str = "m") -> Job:
    return Job(model, Frame(stream, seq, ts_capture=time.time(), t_capture=t_capture, image=PIXEL))


class SleepRunner(Runner):
    """Sleeps a known time in `invoke` (releasing the GIL, like an interpreter) and reports what it ran."""

    def __init__(self, handle: SleepModel) -> None:
        self.handle = handle
        self.thread = threading.current_thread().name

    def preprocess(self, frame: Frame) -> Frame:
        if frame.seq in self.handle.fail_on:
            raise RuntimeError(f"cannot run frame {frame.seq}")
        with self.handle.lock:
            self.handle.runs.append((frame.stream, frame.seq))
        self.handle.started.set()
        return frame

    def invoke(self) -> None:
        if self.handle.gate is not None:
            self.handle.gate.wait(10)
        time.sleep(self.handle.seconds)

    def decode(self, state: Frame) -> tuple[str, dict[str, Any]]:
        return "test", {"seq": state.seq, "version": self.handle.ref.version, "thread": self.thread}


class SleepModel:
    """A model handle whose runners sleep `seconds` per frame; `gate` (if set) holds every run until it opens."""

    def __init__(self, name: str = "m", version: int = 1, seconds: float = 0.0, fail_on: frozenset[int] = frozenset()):
        self._ref = ModelRef(name, version, f"{version:064x}")
        self.seconds = seconds
        self.fail_on = fail_on
        self.gate: threading.Event | None = None
        self.started = threading.Event()
        self.runners: list[weakref.ref[SleepRunner]] = []  # weak: a lane must be free to drop its runner
        self.runs: list[tuple[str, int]] = []  # (stream, seq) in the order runs began
        self.lock = threading.Lock()

    @property
    def ref(self) -> ModelRef:
        return self._ref

    def instantiate(self) -> Runner:
        runner = SleepRunner(self)
        with self.lock:
            self.runners.append(weakref.ref(runner))
        return runner
