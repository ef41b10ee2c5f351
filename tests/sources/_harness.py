"""Run a source the way the runtime does: its own channel, a consumer task, and cancellation at the end."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from types import TracebackType

from edge_runtime.channel import ChannelClosed
from edge_runtime.drops import DropCounter
from edge_runtime.frames import Frame, Item, Reading
from edge_runtime.sources import Source


class Harness:
    """Runs `source` into the channel it asks for; a consumer collects items, taking `consume_s` per item."""

    def __init__(self, source: Source, drops: DropCounter, consume_s: float = 0.0) -> None:
        self.source = source
        self.channel = source.make_channel()
        self.drops = drops
        self.consume_s = consume_s
        self.items: list[Item] = []
        self.arrivals: list[float] = []
        self.task: asyncio.Task[None] | None = None
        self._consumer: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Harness:
        self.task = asyncio.create_task(self.source.run(self.channel), name=f"source:{self.source.name}")
        self._consumer = asyncio.create_task(self._consume(), name=f"consume:{self.source.name}")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        for task in (self.task, self._consumer):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _consume(self) -> None:
        while True:
            try:
                item = await self.channel.get()
            except ChannelClosed:
                return
            self.items.append(item)
            self.arrivals.append(time.monotonic())
            if self.consume_s:
                await asyncio.sleep(self.consume_s)

    async def finish(self, timeout: float) -> None:
        """Wait for a finite source to return, then drain what it left in the channel."""
        assert self.task is not None
        assert self._consumer is not None
        await asyncio.wait_for(self.task, timeout)
        self.channel.close()
        await asyncio.wait_for(self._consumer, timeout)

    async def wait_for(self, what: str, predicate: Callable[[], bool], timeout: float) -> float:
        """Poll `predicate` until true; returns the seconds it took, or fails naming `what` and the status."""
        start = time.monotonic()
        while not predicate():
            if self.task is not None and self.task.done():
                self.task.result()  # a source that stopped by itself: show why
                raise AssertionError(f"source returned before: {what}")
            if time.monotonic() - start > timeout:
                raise AssertionError(f"not within {timeout} s: {what}; status {self.source.status()}")
            await asyncio.sleep(0.02)
        return time.monotonic() - start

    @property
    def frames(self) -> list[Frame]:
        return [item for item in self.items if isinstance(item, Frame)]

    @property
    def readings(self) -> list[Reading]:
        return [item for item in self.items if isinstance(item, Reading)]


def capture_threads(stream: str) -> list[threading.Thread]:
    """Capture threads of `stream` still alive (there must be none once `run()` has returned)."""
    return [t for t in threading.enumerate() if t.name == f"capture:{stream}" and t.is_alive()]
