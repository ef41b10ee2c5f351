"""Run a command's work until it ends, SIGINT/SIGTERM arrives, or `duration` passes (the commands' one stop)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Coroutine
from typing import Any


async def until_stopped(work: Coroutine[Any, Any, None], duration: float | None, name: str) -> None:
    """Await `work` (named task `name`) until it ends or is stopped; its error, if it failed, is raised."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    task = asyncio.create_task(work, name=name)
    waits: list[asyncio.Task[Any]] = [task, asyncio.create_task(stop.wait(), name=f"{name}-stop")]
    if duration is not None:
        waits.append(asyncio.create_task(asyncio.sleep(duration), name=f"{name}-duration"))
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiting in waits:
            waiting.cancel()
        results = await asyncio.gather(*waits, return_exceptions=True)
    if isinstance(results[0], Exception):
        raise results[0]
