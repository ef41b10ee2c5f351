"""The committer thread: takes envelopes from a bounded in-memory buffer and stores them in group commits."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from cloud_sync.counters import BAD_ENVELOPE, BUFFER_FULL, COMMIT_FAILED, SHUTDOWN, Drops
from cloud_sync.envelope import EnvelopeError, encode, key_of, topic_of
from cloud_sync.outbox import Entry, Outbox

log = logging.getLogger("cloud_sync.outbox")
Pending = tuple[dict[str, Any], int, float | None]  # envelope, priority, expires (unix time)
EXPIRE_EVERY_S = 5.0


class Committer:
    """Group commit: everything buffered when a transaction starts goes into it (up to `batch` entries).

    `offer` never blocks; a full buffer refuses and counts `buffer_full`. `stop` commits what was accepted.
    """

    def __init__(self, capacity: int, batch: int, prefix: str, drops: Drops) -> None:
        self.capacity = capacity
        self.batch = batch
        self.prefix = prefix
        self.drops = drops
        self.committed = 0
        self._items: deque[Pending] = deque()
        self._cond = threading.Condition()
        self._stopping = False
        self._busy = False
        self._thread: threading.Thread | None = None

    def offer(self, item: Pending) -> bool:
        with self._cond:
            if self._stopping:
                self.drops.add(SHUTDOWN)
                return False
            if len(self._items) >= self.capacity:
                self.drops.add(BUFFER_FULL)
                return False
            self._items.append(item)
            self._cond.notify_all()
        return True

    def __len__(self) -> int:
        with self._cond:
            return len(self._items)

    def start(self, outbox: Outbox, on_commit: Callable[[list[Any]], None]) -> None:
        self._thread = threading.Thread(target=self._loop, args=(outbox, on_commit), name="outbox-commit", daemon=True)
        self._thread.start()

    def flush(self) -> None:
        """Wait until everything offered so far is committed (blocks: call from a thread)."""
        with self._cond:
            while (self._items or self._busy) and self._thread is not None and self._thread.is_alive():
                self._cond.wait(0.5)

    def stop(self) -> None:
        """Commit everything accepted so far, then end the thread (blocks: call from a thread)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()

    def _take(self) -> list[Pending] | None:
        with self._cond:
            if not self._items and not self._stopping:
                self._cond.wait(EXPIRE_EVERY_S)
            if not self._items:
                return None if self._stopping else []
            n = min(self.batch, len(self._items))
            self._busy = True
            return [self._items.popleft() for _ in range(n)]

    def _done(self) -> None:
        with self._cond:
            self._busy = False
            self._cond.notify_all()

    def _loop(self, outbox: Outbox, on_commit: Callable[[list[Any]], None]) -> None:
        last_expire = time.monotonic()
        while (items := self._take()) is not None:
            if items:
                self._commit(outbox, items, on_commit)
                self._done()
            if time.monotonic() - last_expire >= EXPIRE_EVERY_S:
                outbox.expire()
                last_expire = time.monotonic()

    def _commit(self, outbox: Outbox, items: list[Pending], on_commit: Callable[[list[Any]], None]) -> None:
        try:
            keys = outbox.add(self._entries(items))
        except sqlite3.Error as exc:
            self.drops.add(COMMIT_FAILED, len(items))
            log.error("outbox %s: commit of %d entries failed: %s", outbox.path, len(items), exc)
            return
        self.committed += len(keys)
        on_commit(keys)

    def _entries(self, items: list[Pending]) -> list[Entry]:
        entries = []
        for envelope, priority, expires in items:
            try:
                entries.append(Entry(key_of(envelope), topic_of(self.prefix, envelope), encode(envelope), priority,
                                     expires))
            except (EnvelopeError, TypeError, ValueError) as exc:
                self.drops.add(BAD_ENVELOPE)
                log.warning("outbox: dropped an envelope that cannot be stored: %s", exc)
        return entries
