"""Stopping is bounded: a wait never loses its cancellation, and a part that will not stop is abandoned by name."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import pytest

from cloud_sync.bridge import wait_settled
from edge_runtime.engine._abandon import abandonable


def test_a_cancelled_wait_is_not_lost_when_its_future_settles_in_the_same_turn() -> None:
    """On Python 3.11 `wait_for(shield(f))` returns f's result here and the task runs on (the hang of a stop)."""

    async def scenario() -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waiter = asyncio.create_task(wait_settled(future, 5.0))
        await asyncio.sleep(0)  # the waiter now waits on the future
        future.set_result(None)  # the confirmation arrives...
        waiter.cancel()  # ...in the very turn the stop cancels the waiter
        with pytest.raises(asyncio.CancelledError):
            await waiter
        assert waiter.cancelled()

    asyncio.run(scenario())


def test_wait_settled_says_whether_the_future_settled_and_never_cancels_it() -> None:
    async def scenario() -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        assert await wait_settled(future, 0.05) is False
        assert not future.cancelled()
        asyncio.get_running_loop().call_later(0.01, future.set_result, None)
        assert await wait_settled(future, 5.0) is True

    asyncio.run(scenario())


def test_a_part_that_swallows_its_cancellation_is_abandoned_by_name(caplog: pytest.LogCaptureFixture) -> None:
    async def stubborn(release: asyncio.Event) -> None:
        while not release.is_set():
            with contextlib.suppress(asyncio.CancelledError):  # swallowed: what used to hang a reload or a stop
                await release.wait()

    async def scenario() -> float:
        release = asyncio.Event()
        part = asyncio.create_task(abandonable("stream 'porch'", stubborn(release), grace_s=0.2))
        await asyncio.sleep(0.05)
        t0 = time.monotonic()
        part.cancel()
        with pytest.raises(asyncio.CancelledError):
            await part
        took = time.monotonic() - t0
        release.set()  # let the abandoned work end, so the loop closes cleanly
        await asyncio.sleep(0.01)
        return took

    with caplog.at_level(logging.ERROR, logger="edge_runtime.engine._abandon"):
        took = asyncio.run(scenario())
    assert took < 2.0
    assert any("stream 'porch'" in r.getMessage() and "abandoned" in r.getMessage() for r in caplog.records)


def test_a_part_that_stops_when_cancelled_is_not_reported(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> None:
        part = asyncio.create_task(abandonable("sink:jsonl", asyncio.sleep(60), grace_s=5.0))
        await asyncio.sleep(0.01)
        part.cancel()
        with pytest.raises(asyncio.CancelledError):
            await part

    with caplog.at_level(logging.ERROR):
        asyncio.run(scenario())
    assert not [r for r in caplog.records if "abandoned" in r.getMessage()]
