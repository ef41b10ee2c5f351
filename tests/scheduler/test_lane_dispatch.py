"""Lanes take their next job themselves: the event loop is not between two jobs, and the books still add up.

Real lane threads, real (sleeping) runners and a real model; assertions are about order and accounting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge_runtime.frames import Frame
from edge_runtime.inference import ModelConfig, load_model
from edge_runtime.jobs import Completed, Job, Runner
from edge_runtime.scheduler import AcceleratorService
from edge_runtime.sections import AcceleratorConfig
from tests.scheduler.jobs import SleepModel
from tests.scheduler.service_support import accounted, gated, run, submit, until

pytestmark = pytest.mark.timeout(30)
ROOT = Path(__file__).resolve().parents[2]


def _hold_the_loop(condition: Callable[[], bool], timeout: float) -> None:
    """Block the calling thread (the event loop's) until `condition` holds or `timeout` passes."""
    end = time.monotonic() + timeout
    while not condition() and time.monotonic() < end:
        time.sleep(0.001)


def test_a_lane_runs_the_queue_while_the_loop_is_blocked() -> None:
    async def main() -> None:
        model = SleepModel()
        gate = gated(model)
        service = AcceleratorService(AcceleratorConfig(), {"m": model})
        for stream in ("a", "b", "c"):
            service.register_stream(stream, "normal")
        async with service:
            futures = [submit(service, stream, 0) for stream in ("a", "b", "c")]
            await until(model.started.is_set)
            gate.set()
            _hold_the_loop(lambda: len(model.runs) >= 3, timeout=10)
            assert [stream for stream, _ in model.runs] == ["a", "b", "c"], "a lane waited for the loop"
            outcomes = await asyncio.gather(*futures)
        assert all(isinstance(o, Completed) for o in outcomes)
        accounted(service)

    run(main)


def test_the_books_add_up_at_every_snapshot_while_lanes_run() -> None:
    async def main() -> None:
        model = SleepModel(seconds=0.0005)
        service = AcceleratorService(AcceleratorConfig(lanes=2), {"m": model})
        streams = [("cam", "high"), ("yard", "normal"), ("shed", "low")]
        for stream, priority in streams:
            service.register_stream(stream, priority, deadline_ms=20)  # type: ignore[arg-type]
        async with service:
            futures = []
            for seq in range(300):
                futures += [submit(service, stream, seq) for stream, _ in streams]
                accounted(service)
                if seq % 3 == 0:
                    await asyncio.sleep(0.0005)
            await asyncio.gather(*futures)
            accounted(service)
        figures = service.snapshot()["streams"]
        assert sum(f["completed"] for f in figures.values()) > 0
        assert all(f["queued"] == 0 and f["running"] == 0 for f in figures.values())

    run(main)


class _StagedRunner(Runner):
    """Records the order its steps are called in; `run` must not be used for it."""

    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def run(self, frame: Frame) -> tuple[str, dict[str, Any]]:
        raise AssertionError("the lane drives a runner step by step")

    def preprocess(self, frame: Frame) -> int:
        self.calls.append("preprocess")
        return int(frame.image.shape[0])

    def invoke(self) -> None:
        self.calls.append("invoke")

    def decode(self, state: int) -> tuple[str, dict[str, Any]]:
        self.calls.append("decode")
        return "test", {"rows": state}


class _StagedModel(SleepModel):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def instantiate(self) -> Any:
        return _StagedRunner(self.calls)


def test_a_staged_runner_is_driven_preprocess_invoke_decode() -> None:
    async def main() -> None:
        model = _StagedModel()
        service = AcceleratorService(AcceleratorConfig(), {"m": model})
        service.register_stream("cam", "normal")
        async with service:
            outcomes = [await submit(service, "cam", seq) for seq in range(2)]
        assert [o.payload for o in outcomes if isinstance(o, Completed)] == [{"rows": 1}] * 2
        assert model.calls == ["preprocess", "invoke", "decode"] * 2

    run(main)


def test_a_real_model_gives_through_the_service_what_its_runner_gives_alone() -> None:
    config = ModelConfig.model_validate(
        {"path": "models/digits_uint8.tflite", "labels": "models/digits_labels.txt", "decoder": "classification"}
    )
    accel = AcceleratorConfig(threads=1)
    digits = np.load(ROOT / "models" / "digits_test.npz")["X_test"][:20]
    frames = [
        Frame("cam", i, time.time(), time.monotonic(), np.repeat((image * 16).astype(np.uint8)[:, :, None], 3, 2))
        for i, image in enumerate(digits)
    ]
    alone = load_model("digits", config, accel, ROOT).instantiate()
    expected = [alone.run(frame) for frame in frames]

    async def main() -> list[Any]:
        service = AcceleratorService(accel, {"digits": load_model("digits", config, accel, ROOT)})
        service.register_stream("cam", "normal")
        async with service:
            jobs = [Job("digits", f) for f in frames]
            return [await service.submit(job) for job in jobs]

    outcomes = asyncio.run(main())
    assert [(o.kind, o.payload) for o in outcomes if isinstance(o, Completed)] == expected
    assert len({str(p) for _, p in expected}) > 1, "the frames should not all give the same answer"
