"""Blocking work (hashing, loading, canary runs) in a named thread, awaited from the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


async def in_thread(name: str, work: Callable[[], T]) -> T:
    """Run `work()` in a new thread called `name`; its result or exception comes back to the awaiting task.

    If the awaiting task is cancelled, the thread still runs to its end (daemon) and its result is discarded.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def main() -> None:
        try:
            result = work()
        except BaseException as exc:  # handed to the awaiting task
            _call(loop, settle, None, exc)
        else:
            _call(loop, settle, result, None)

    threading.Thread(target=main, name=name, daemon=True).start()
    return await future


def _call(loop: asyncio.AbstractEventLoop, settle: Callable[..., None], *args: object) -> None:
    with contextlib.suppress(RuntimeError):  # the loop has closed; nobody is waiting any more
        loop.call_soon_threadsafe(settle, *args)
