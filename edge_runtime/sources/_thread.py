"""Sources whose reads block (OpenCV, the file system) run them in one named thread: ``capture:<stream>``.

`run()` starts the thread and waits for it; cancelling `run()` sets the thread's stop event and joins it off
the event loop, so no capture thread outlives its task. The thread owns its capture handles and releases them.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from abc import abstractmethod

from cloud_sync.bridge import settle_threadsafe
from edge_runtime.channel import Channel
from edge_runtime.frames import Item
from edge_runtime.sources._base import Source

log = logging.getLogger(__name__)

STOP_CHECK_S = 0.25  # a producer waiting for room also notices `stop` within this (the runtime closes first)


def put_wait(out: Channel[Item], item: Item, stop: threading.Event) -> bool:
    """Put `item` once the channel has room; False when stopped first or the channel refused it.

    Waits on the channel's condition (woken by the consumer), not by polling. Only the source's own thread puts
    into its channel, so room seen here is still there at `put`.
    """
    while not out.wait_for_room(STOP_CHECK_S):
        if stop.is_set() or out.closed:
            return False
    return out.put(item)


class ThreadedSource(Source):
    """A source whose `capture()` loop runs in a dedicated thread."""

    # Longest wait for the thread after stop is asked. A thread still blocked in a driver call after that (an
    # RTSP open that has not timed out yet) is left to finish on its own: it is a daemon and puts nothing more,
    # so the runtime still stops within its 5 s budget.
    join_timeout_s = 3.0

    async def run(self, out: Channel[Item]) -> None:
        loop = asyncio.get_running_loop()
        out.bind(loop)
        finished: asyncio.Future[None] = loop.create_future()
        stop = threading.Event()
        thread = threading.Thread(
            target=self._thread_main, args=(out, stop, loop, finished), name=f"capture:{self.name}", daemon=True
        )
        thread.start()
        try:
            await finished
        finally:
            stop.set()
            await self._stopped(finished, thread)

    async def _stopped(self, finished: asyncio.Future[None], thread: threading.Thread) -> None:
        """Wait (on the loop, no executor thread) for the capture thread to end, at most `join_timeout_s`."""
        if not finished.done():
            try:
                await asyncio.wait_for(asyncio.shield(finished), self.join_timeout_s)
            except TimeoutError:
                log.warning("%s", self.describe(f"capture thread still blocked after {self.join_timeout_s:.0f} s"))
                return
            except Exception as exc:  # the capture failed while stopping: nothing is waiting for its items now
                log.debug("%s", self.describe(f"capture ended with {exc!r} while stopping"))
        thread.join(timeout=1.0)  # it has handed over its result: only its exit is left

    @abstractmethod
    def capture(self, out: Channel[Item], stop: threading.Event) -> None:
        """Read and put items until `stop` is set (return then) or the source is exhausted. Runs in the thread."""

    def emit(self, out: Channel[Item], item: Item, stop: threading.Event) -> bool:
        """Hand one item to the channel following this source's policy; counts it as read."""
        self.state.item()
        if self.channel_policy().blocking:
            return put_wait(out, item, stop)
        return out.put(item)

    def _thread_main(
        self, out: Channel[Item], stop: threading.Event, loop: asyncio.AbstractEventLoop, finished: asyncio.Future[None]
    ) -> None:
        error: BaseException | None = None
        try:
            self.capture(out, stop)
        except BaseException as exc:  # handed over to the task awaiting `run()`
            error = exc
        settle_threadsafe(loop, finished, None, error)
