"""How a lane wakes the event loop: an eventfd the loop watches (Linux), else `call_soon_threadsafe`.

A lane wakes the loop on its way to `invoke()`, once per batch of reports, so the wake-up's cost comes out of the
lane's time between two invokes: under load, out of its throughput. `call_soon_threadsafe` makes a handle, queues
it and sends a byte on the loop's self-pipe socket: 8 µs from a thread on a 2-core VM (median of 3,000). An eventfd
write is one syscall: 3.4 µs. The loop's reader resets the counter before it calls back, so a wake-up that comes
during the callback makes the fd readable again and is seen on the loop's next turn, never lost.

The loop watches the fd for as long as it runs: a capture thread may still submit after the service stopped, and
that refusal is settled on the loop like any report. A lane thread the service abandoned (stuck in a model) may
write once it returns, even after the loop closed: the write reaches a counter nobody watches. The fd is closed
when the waker is freed (the loop closed and the service gone), i.e. when no thread can write to it any more, so
its number is never reused under a late writer.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import weakref
from collections.abc import Callable


class LoopWaker:
    """`wake()` (any thread) has `callback` called on `loop`, once per batch of wake-ups."""

    def __init__(self, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
        self._loop = loop
        self._callback = callback
        self._fd = _watched_eventfd(loop, self._ready)
        if self._fd is not None:
            weakref.finalize(self, os.close, self._fd)

    @property
    def uses_eventfd(self) -> bool:
        return self._fd is not None

    def wake(self) -> None:
        if self._fd is not None:
            os.eventfd_write(self._fd, 1)
            return
        with contextlib.suppress(RuntimeError):  # the loop is closed: the service resolved everything at stop
            self._loop.call_soon_threadsafe(self._ready)

    def _ready(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(BlockingIOError):  # read by an earlier turn already
                os.eventfd_read(self._fd)
        self._callback()


def _watched_eventfd(loop: asyncio.AbstractEventLoop, reader: Callable[[], None]) -> int | None:
    """A non-blocking eventfd `loop` watches with `reader`; None where there is none (not Linux, no selector)."""
    make = getattr(os, "eventfd", None)
    if make is None:
        return None
    fd: int = make(0, os.EFD_NONBLOCK | os.EFD_CLOEXEC)
    try:
        loop.add_reader(fd, reader)
    except NotImplementedError:  # a proactor loop
        os.close(fd)
        return None
    return fd
