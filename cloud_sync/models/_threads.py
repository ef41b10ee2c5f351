"""Blocking work (hashing, loading, canary runs, staging writes) in named threads, away from the event loop."""

from __future__ import annotations

import asyncio
import collections
import threading
from collections.abc import Callable
from typing import TypeVar

from cloud_sync.bridge import settle_threadsafe

T = TypeVar("T")


async def in_thread(name: str, work: Callable[[], T]) -> T:
    """Run `work()` in a new thread called `name`; its result or exception comes back to the awaiting task.

    If the awaiting task is cancelled, the thread still runs to its end (daemon) and its result is discarded.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def main() -> None:
        try:
            result = work()
        except BaseException as exc:  # handed to the awaiting task
            settle_threadsafe(loop, future, None, exc)
        else:
            settle_threadsafe(loop, future, result, None)

    threading.Thread(target=main, name=name, daemon=True).start()
    return await future


class SerialWorker:
    """Runs submitted calls one at a time, in submission order, in a thread named `name`.

    The thread exists only while there is work: it starts on the first call submitted to an idle worker and ends
    when the queue is empty, so an abandoned worker leaves no thread behind. The queue holds what the caller
    submits (the caller bounds it). An exception from one call is kept in `error` (the first one) and the later
    calls still run, so a clean-up submitted after a failed write still happens.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.error: BaseException | None = None
        self._calls: collections.deque[Callable[[], object]] = collections.deque()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._running = False

    def submit(self, call: Callable[[], object]) -> None:
        """Never blocks."""
        with self._lock:
            self._calls.append(call)
            if self._running:
                return
            self._running = True
        threading.Thread(target=self._drain, name=self.name, daemon=True).start()

    def wait(self) -> None:
        """Blocking (call it from a thread, not the event loop): until every call submitted so far has run."""
        with self._idle:
            self._idle.wait_for(lambda: not self._running)

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._calls:
                    self._running = False
                    self._idle.notify_all()
                    return
                call = self._calls.popleft()
            try:
                call()
            except Exception as exc:  # kept for the owner; the next calls still run
                if self.error is None:
                    self.error = exc
