"""Inbound messages, written once for every link: topic filters with handlers, and the one bounded queue.

A link (MQTT, ZeroMQ, in-memory) hands each message it receives to `Subscriptions.dispatch`, on the event loop's
thread. A handler must not block; one that needs to wait puts the message into an `InboundQueue` (bounded: a
message that finds it full is dropped and counted, never held in a hidden queue) and reads it in its own task.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from cloud_sync.counters import INBOUND_FULL, Drops
from cloud_sync.envelope import Inbound

log = logging.getLogger("cloud_sync.inbound")
Handler = Callable[[Inbound], object]  # its result is ignored
UNROUTED = "unrouted"  # an inbound message no subscription asked for
HANDLER_FAILED = "handler_failed"  # a handler raised: counted, logged, dispatch goes on


def matches(topic_filter: str, topic: str) -> bool:
    """MQTT filter matching (``+`` one level, ``#`` the rest), used by every link so they route alike."""
    want, have = topic_filter.split("/"), topic.split("/")
    for index, level in enumerate(want):
        if level == "#":
            return True
        if index >= len(have) or (level != "+" and level != have[index]):
            return False
    return len(want) == len(have)


class Subscriptions:
    """Topic filters and their handlers. Add them before the link is entered, or at any time after."""

    def __init__(self, drops: Drops) -> None:
        self.drops = drops
        self._handlers: list[tuple[str, Handler]] = []

    def add(self, topic_filter: str, handler: Handler) -> None:
        self._handlers.append((topic_filter, handler))

    def filters(self) -> list[str]:
        return list(dict.fromkeys(f for f, _ in self._handlers))

    def dispatch(self, message: Inbound) -> None:
        """Call every handler whose filter matches; none matching is counted `unrouted`."""
        routed = False
        for topic_filter, handler in self._handlers:
            if matches(topic_filter, message.topic):
                routed = True
                try:
                    handler(message)
                except Exception:  # one failing handler never stops dispatch
                    self.drops.add(HANDLER_FAILED)
                    log.exception("inbound handler for %r failed", topic_filter)
        if not routed:
            self.drops.add(UNROUTED)


class InboundQueue:
    """The bounded queue between a link's handler and a task that reads at its own pace; overflow is counted."""

    def __init__(self, size: int, drops: Drops | None = None, reason: str = INBOUND_FULL) -> None:
        self.drops = drops if drops is not None else Drops()
        self.reason = reason
        self._queue: asyncio.Queue[Inbound] = asyncio.Queue(size)

    def put(self, message: Inbound) -> bool:
        """Never blocks: False (counted) when full."""
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            self.drops.add(self.reason)
            return False
        return True

    def __len__(self) -> int:
        return self._queue.qsize()

    async def get(self) -> Inbound:
        return await self._queue.get()

    def get_nowait(self) -> Inbound | None:
        return None if self._queue.empty() else self._queue.get_nowait()

    async def __aiter__(self) -> AsyncIterator[Inbound]:
        while True:
            yield await self._queue.get()
