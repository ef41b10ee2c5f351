"""A bounded channel from any thread to one asyncio consumer, with a stated overflow policy.

`put()` never blocks and may be called from a capture thread or from the event loop. When the channel is full
the policy decides who loses, and the loser is counted in the owner's `DropCounter`:

* ``drop_oldest``: the oldest queued item is discarded (reason ``superseded``). With capacity 1 this is the
  latest-frame-wins mailbox that cameras use: a slow pipeline always sees the newest frame.
* ``drop_newest``: the new item is refused (reason ``queue_full``); what was accepted is kept.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, Literal, TypeVar

from edge_runtime.drops import QUEUE_FULL, SUPERSEDED, DropCounter

T = TypeVar("T")
Overflow = Literal["drop_oldest", "drop_newest"]


class ChannelClosed(Exception):
    """Raised by `get()` once the channel is closed and empty."""


class Channel(Generic[T]):
    def __init__(
        self,
        capacity: int,
        overflow: Overflow,
        drops: DropCounter,
        on_offer: Callable[[], None] | None = None,
        admit: Callable[[], bool] | None = None,
    ) -> None:
        """`on_offer` is called for every item offered (accepted or not): the stream's `offered` count.
        `admit` (a stream control) may hold an item back before it is offered: then it is neither offered nor
        dropped, and `put` returns False."""
        self._admit = admit
        if capacity < 1:
            raise ValueError("capacity must be >= 1")
        self._on_offer = on_offer
        self.capacity = capacity
        self.overflow: Overflow = overflow
        self._drops = drops
        self._items: deque[T] = deque()
        self._lock = threading.Lock()
        self._room = threading.Condition(self._lock)  # signalled when `get` takes an item or the channel closes
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._closing: asyncio.Future[None] | None = None  # `wait_closed`'s, woken by `close` only
        self._take: Callable[[T], bool] | None = None
        self._closed = False

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Tie the channel to the loop its consumer runs on (done by `get()` too)."""
        self._loop = loop

    def put(self, item: T) -> bool:
        """Offer an item; returns False when it was refused. Thread-safe, never blocks."""
        if self._admit is not None and not self._admit():
            return False
        with self._lock:
            if self._closed:
                return False
            if self._on_offer is not None:
                self._on_offer()
            if not self._items and self._take is not None and self._take(item):
                return True
            if len(self._items) >= self.capacity:
                if self.overflow == "drop_newest":
                    self._drops.add(QUEUE_FULL)
                    return False
                self._items.popleft()
                self._drops.add(SUPERSEDED)
            self._items.append(item)
            waiting = self._waiter is not None  # set under this lock by `get`; nobody waiting: no wake-up
        if waiting:
            self._wake(self._set_waiter)
        return True

    def hand_off(self, take: Callable[[T], bool] | None) -> None:
        """Let `take` have each item as it is offered, in the putting thread, under the channel's lock, while
        nothing is queued (None: stop). When it returns False (no room), the item is queued as usual, under the
        overflow policy, until `pump` hands it over. The items a consumer sees are then only the ones queued."""
        with self._lock:
            self._take = take

    def pump(self) -> None:
        """Hand the queued items, oldest first, to `take` while it accepts them (call when it has room again)."""
        with self._lock:
            moved = False
            while self._items and self._take is not None and self._take(self._items[0]):
                self._items.popleft()
                moved = True
            if moved:
                self._room.notify()

    @property
    def closed(self) -> bool:
        return self._closed

    def wait_for_room(self, timeout: float) -> bool:
        """Block the calling (producer) thread until there is room or the channel closes, at most `timeout`.

        True when there is room. For producers that must not lose items (files read as fast as consumed).
        """
        with self._room:
            self._room.wait_for(lambda: self._closed or len(self._items) < self.capacity, timeout)
            return not self._closed and len(self._items) < self.capacity

    def close(self) -> None:
        """No more items; the consumer drains what is queued, then gets `ChannelClosed`."""
        with self._lock:
            self._closed = True
            self._room.notify_all()
        self._wake(self._set_waiter)
        self._wake(self._set_closing)

    async def wait_closed(self) -> None:
        """Return once the channel is closed (the items stay queued)."""
        loop = self._loop = self._loop or asyncio.get_running_loop()
        with self._lock:
            if self._closed:
                return
            self._closing = closing = loop.create_future()
        try:
            await closing
        finally:
            self._closing = None

    def take_all(self) -> list[T]:
        """Remove and return whatever is queued (for accounting at a forced stop)."""
        with self._lock:
            items = list(self._items)
            self._items.clear()
            self._room.notify_all()
        return items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    async def get(self) -> T:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                if self._items:
                    self._room.notify()
                    return self._items.popleft()
                if self._closed:
                    raise ChannelClosed
                self._waiter = self._loop.create_future()
                waiter = self._waiter
            try:
                await waiter
            finally:
                self._waiter = None

    def _wake(self, setter: Callable[[], None]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            setter()
        else:
            loop.call_soon_threadsafe(setter)

    def _set_waiter(self) -> None:
        _settle(self._waiter)

    def _set_closing(self) -> None:
        _settle(self._closing)


def _settle(waiter: asyncio.Future[None] | None) -> None:
    if waiter is not None and not waiter.done():
        waiter.set_result(None)
