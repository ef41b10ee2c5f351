"""The one thread-to-loop bridge: a worker thread hands its result (or exception) to a future on the event loop;
and the one bounded wait for such a future that never loses the waiter's own cancellation."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TypeVar

T = TypeVar("T")


def settle_threadsafe(
    loop: asyncio.AbstractEventLoop, future: asyncio.Future[T], result: T | None, error: BaseException | None
) -> None:
    """From any thread: settle `future` on `loop` (first settle wins; a closed loop means nobody is waiting)."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(_settle, future, result, error)


def _settle(future: asyncio.Future[T], result: T | None, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)  # type: ignore[arg-type]


async def wait_settled(future: asyncio.Future[T], timeout: float) -> bool:
    """Wait at most `timeout` for `future` to settle, without cancelling it; True when it has.

    Not `wait_for(shield(future))`: on Python 3.11, when the future settles in the same loop turn as the caller is
    cancelled, `wait_for` returns the result and the cancellation is lost, so a task being stopped runs on (and
    whatever waits for it waits for ever). `asyncio.wait` always raises the cancellation.
    """
    done, _ = await asyncio.wait([future], timeout=timeout)
    return bool(done)
