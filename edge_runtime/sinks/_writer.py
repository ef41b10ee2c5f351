"""A named thread that owns a text stream (stdout): callers on the event loop never block on a slow terminal,
a paused pager or a closed pipe. Lines beyond the bounded queue are dropped and counted."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import TextIO

from edge_runtime.drops import QUEUE_FULL, DropCounter

WRITE_ERROR = "write_error"  # the stream refused the write (a closed pipe): nothing more is written to it
_STOP = object()


class LineWriter:
    """Runs `render(item, out)` for each queued item in its own thread; `submit` never blocks."""

    def __init__(self, name: str, out: TextIO, render: Callable[[object, TextIO], None], max_queue: int = 1000) -> None:
        self.drops = DropCounter()
        self._out = out
        self._render = render
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_queue)
        self._broken = False
        self._thread = threading.Thread(target=self._loop, name=f"sink:{name}", daemon=True)
        self._thread.start()

    def submit(self, item: object) -> None:
        if self._broken:
            self.drops.add(WRITE_ERROR)
            return
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.drops.add(QUEUE_FULL)

    def close(self, timeout: float = 0.5) -> None:
        """Write what is queued (for at most `timeout`), then stop the thread. Safe to call twice."""
        try:
            self._queue.put(_STOP, timeout=timeout)
        except queue.Full:
            return  # the stream is stuck: the daemon thread is left to it
        self._thread.join(timeout)

    def _loop(self) -> None:
        while (item := self._queue.get()) is not _STOP:
            if self._broken:
                continue
            try:
                self._render(item, self._out)
                self._out.flush()
            except (OSError, ValueError):  # a closed pipe or file
                self._broken = True
                self.drops.add(WRITE_ERROR)
