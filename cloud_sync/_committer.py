"""The committer thread: takes envelopes from a bounded in-memory buffer and stores them in group commits."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from cloud_sync.counters import BAD_ENVELOPE, BUFFER_FULL, COMMIT_FAILED, SHUTDOWN, Drops
from cloud_sync.envelope import Envelope, EnvelopeError, Key, encode, key_of, topic_of
from cloud_sync.outbox import Entry, Outbox

log = logging.getLogger("cloud_sync.outbox")
Pending = tuple[Envelope, int, float | None]  # envelope, priority, expires (unix time)
EXPIRE_EVERY_S = 5.0
TOPICS_KEPT = 4096
# Envelopes encoded between two releases of the GIL. A thread that wants the GIL waits for the holder to drop it,
# up to sys.getswitchinterval() (5 ms) when the holder is busy in Python: an event loop woken by a socket would
# wait that long behind a large group commit. Encoding 32 envelopes takes ~0.15 ms.
YIELD_EVERY = 32
# A transaction waits this long for more envelopes when fewer than `batch` are buffered. At a steady 2000/s this
# makes ~50 transactions/s of ~40 envelopes rather than 2000 of one: each costs the event loop a wake-up of the
# drain and other threads a GIL hand-over. Acceptance (`offer`) does not wait; `flush` and `stop` cut it short.
LINGER_S = 0.02


class Committer:
    """Group commit: everything buffered when a transaction starts goes into it (up to `batch` entries); a
    transaction starts once `batch` are buffered or `LINGER_S` after the first of them arrived.

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
        self._committing = 0  # taken from the buffer, not yet in the outbox
        self._hurry = False
        self._thread: threading.Thread | None = None
        self._topics: dict[tuple[str, str, Any], str] = {}

    def offer(self, item: Pending) -> bool:
        with self._cond:
            if self._stopping:
                self.drops.add(SHUTDOWN)
                return False
            if len(self._items) >= self.capacity:
                self.drops.add(BUFFER_FULL)
                return False
            self._items.append(item)
            if len(self._items) in (1, self.batch):  # the committer waits for the first, or lingers for a group
                self._cond.notify_all()
        return True

    def __len__(self) -> int:
        """Accepted and not yet in the outbox: buffered, or in the transaction being committed (so "nothing
        buffered and nothing in the outbox" means every accepted entry was sent)."""
        with self._cond:
            return len(self._items) + self._committing

    @contextlib.contextmanager
    def running(self, outbox: Outbox, on_commit: Callable[[list[Any]], None]) -> Iterator[Committer]:
        """``with committer.running(outbox, on_commit):`` the thread commits while the block runs; leaving the
        block commits everything accepted so far and ends the thread (blocks: enter and leave from a thread)."""
        self._thread = threading.Thread(target=self._loop, args=(outbox, on_commit), name="outbox-commit", daemon=True)
        self._thread.start()
        try:
            yield self
        finally:
            self.stop()

    def flush(self) -> None:
        """Wait until everything offered so far is committed (blocks: call from a thread)."""
        with self._cond:
            while (self._items or self._busy) and self._thread is not None and self._thread.is_alive():
                self._hurry = True
                self._cond.notify_all()
                self._cond.wait(0.5)

    def stop(self) -> None:
        """Commit everything accepted so far, then end the thread (blocks: call from a thread)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()

    def discard(self, reason: str) -> int:
        """Refuse further offers and count what is still buffered under `reason` (the outbox never opened)."""
        with self._cond:
            self._stopping = True
            n = len(self._items)
            self._items.clear()
            self._cond.notify_all()
        self.drops.add(reason, n)
        return n

    def _take(self) -> list[Pending] | None:
        with self._cond:
            if not self._items and not self._stopping:
                self._cond.wait(EXPIRE_EVERY_S)
            if not self._items:
                return None if self._stopping else []
            self._linger()
            n = min(self.batch, len(self._items))
            self._busy = True
            self._committing = n
            self._hurry = False
            return [self._items.popleft() for _ in range(n)]

    def _linger(self) -> None:
        """With the lock held: give a group up to LINGER_S to form."""
        deadline = time.monotonic() + LINGER_S
        while len(self._items) < self.batch and not (self._stopping or self._hurry):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._cond.wait(remaining)

    def _done(self) -> None:
        with self._cond:
            self._busy = False
            self._committing = 0
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
            outbox.note_oldest()  # after each group commit, or each EXPIRE_EVERY_S when idle

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
        for n, (envelope, priority, expires) in enumerate(items, 1):
            if n % YIELD_EVERY == 0:
                time.sleep(0)  # let a waiting thread (the event loop) have the GIL: see YIELD_EVERY
            try:
                key = key_of(envelope)
                entries.append(Entry(key, self._topic(key, envelope), encode(envelope), priority, expires))
            except (EnvelopeError, TypeError, ValueError) as exc:
                self.drops.add(BAD_ENVELOPE)
                log.warning("outbox: dropped an envelope that cannot be stored: %s", exc)
        return entries

    def _topic(self, key: Key, envelope: Envelope) -> str:
        """`topic_of`, remembered per (device, stream, kind): a device has few of them."""
        route = (key.device, key.stream, envelope.get("kind"))
        topic = self._topics.get(route)
        if topic is None:
            topic = topic_of(self.prefix, envelope)
            if len(self._topics) < TOPICS_KEPT:
                self._topics[route] = topic
        return topic
