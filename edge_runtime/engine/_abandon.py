"""A part of the runtime that will not stop is abandoned, by name, instead of hanging a reload or the stop.

Every stream task and background part runs in `abandonable`: its work is an inner task, and the task group only
holds the wrapper. Cancelling the wrapper cancels the inner task and waits at most `grace_s` for it to end; an
inner task that swallows its cancellation or waits on something nobody wakes is logged by name and left behind
(it is no longer awaited by anyone), so the wrapper, and with it the task group, always ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)

GRACE_S = 5.0  # how long a cancelled part may take to end (a capture thread is joined within 3 s + 1 s)
_abandoned: set[asyncio.Task[None]] = set()  # kept referenced until they end (the loop holds only weak ones)


async def abandonable(name: str, work: Coroutine[Any, Any, None], grace_s: float = GRACE_S) -> None:
    inner = asyncio.create_task(work, name=f"{name}:work")
    try:
        await asyncio.shield(inner)
    except asyncio.CancelledError:
        if inner.done():
            raise
        inner.cancel()
        done, _ = await asyncio.wait([inner], timeout=grace_s)
        if done and not inner.cancelled():
            inner.exception()  # retrieved: an error while being cancelled changes nothing now
        if not done:
            log.error("%s did not stop within %.1f s of being cancelled: abandoned", name, grace_s)
            _abandoned.add(inner)
            inner.add_done_callback(_abandoned.discard)
        raise
