"""The admission hooks: the same decisions wrap the loop's `submit` and answer the direct path's `admit`."""

from __future__ import annotations

import asyncio
import time

from edge_runtime.drops import THERMAL
from edge_runtime.engine._build import Submission
from edge_runtime.jobs import Completed, Dropped, Job
from edge_runtime.scheduler import AcceleratorService
from edge_runtime.sections import AcceleratorConfig
from tests.scheduler.jobs import SleepModel, make_job
from tests.scheduler.service_support import accounted, run


class _Hook:
    """Sees each frame (in `seen`, shared to record the order); sheds the odd sequence numbers when told to."""

    def __init__(self, name: str, seen: list[tuple[str, int]], shed_odd: bool = False) -> None:
        self.name, self.seen, self.shed_odd = name, seen, shed_odd

    def __call__(self, job: Job) -> bool:
        self.seen.append((self.name, job.frame.seq))
        return not (self.shed_odd and job.frame.seq % 2)


def test_hooks_see_each_frame_outermost_first_and_a_shed_frame_ends_as_the_hooks_outcome() -> None:
    async def main() -> None:
        service = AcceleratorService(AcceleratorConfig(), {"m": SleepModel()})
        service.register_stream("cam", "normal")
        seen: list[tuple[str, int]] = []
        submission = Submission(service)
        submission.hook(_Hook("ring", seen))
        submission.hook(_Hook("thermal", seen, shed_odd=True), lambda job: Dropped(THERMAL, f"shed {job.frame.seq}"))
        submission.hook(_Hook("snapshots", seen))
        async with service:
            outcomes = [await submission.submit(make_job("cam", seq, time.monotonic())) for seq in (1, 2)]
        assert outcomes[0] == Dropped(THERMAL, "shed 1")
        assert isinstance(outcomes[1], Completed)
        # the last hooked is the outermost: a frame the thermal hook sheds never reaches the ring inside it
        assert seen == [("snapshots", 1), ("thermal", 1), ("snapshots", 2), ("thermal", 2), ("ring", 2)]
        snapshot = service.snapshot()["streams"]["cam"]
        assert snapshot["submitted"] == 1  # the shed frame never reached the service (the hook counted it)
        accounted(service)

    run(main)


def test_the_direct_paths_admit_asks_the_same_hooks_in_the_same_order() -> None:
    service = AcceleratorService(AcceleratorConfig(), {"m": SleepModel()})
    seen: list[tuple[str, int]] = []
    submission = Submission(service)
    assert submission.admit() is None  # nothing hooked: the capture thread asks nothing
    submission.hook(_Hook("ring", seen))
    submission.hook(_Hook("thermal", seen, shed_odd=True), lambda job: Dropped(THERMAL, ""))
    admit = submission.admit()
    assert admit is not None
    assert [admit(make_job("cam", seq, time.monotonic())) for seq in (1, 2)] == [False, True]
    assert seen == [("thermal", 1), ("thermal", 2), ("ring", 2)]


def test_a_hook_without_shed_that_sheds_still_resolves_the_frame() -> None:
    async def main() -> None:
        service = AcceleratorService(AcceleratorConfig(), {"m": SleepModel()})
        service.register_stream("cam", "normal")
        submission = Submission(service)
        submission.hook(lambda job: False)
        async with service:
            outcome = await asyncio.wait_for(submission.submit(make_job("cam", 1, time.monotonic())), 2)
        assert isinstance(outcome, Dropped)

    run(main)
