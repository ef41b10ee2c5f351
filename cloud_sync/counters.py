"""Drop counters of the cloud link: every envelope that is not delivered is counted with a reason."""

from __future__ import annotations

import threading
from collections import Counter

BUFFER_FULL = "buffer_full"  # the in-memory buffer in front of the committer was full
OUTBOX_FULL = "outbox_full"  # policy reject: the outbox was at its byte cap, the new entry was refused
OUTBOX_EVICTED = "outbox_evicted"  # policy drop_oldest_lowest: a stored entry was evicted to make room
TOO_LARGE = "too_large"  # a single entry bigger than the whole cap
EXPIRED = "expired"  # its TTL ran out before it was delivered
BAD_ENVELOPE = "bad_envelope"  # could not be encoded (e.g. not JSON-serialisable)
INBOUND_FULL = "inbound_full"  # an inbound (cloud to device) message found the inbound queue full
COMMIT_FAILED = "commit_failed"  # SQLite refused the transaction (disk full, I/O error)
DISK_FULL = "disk_full"  # the outbox's disk was full: the new entry was refused (retried each second)
OUTBOX_UNWRITABLE = "outbox_unwritable"  # the outbox file could not be opened or written (read-only, no access)
SHUTDOWN = "shutdown"  # offered after the uplink stopped
BAD_ACK = "bad_ack"  # ZeroMQ: an ack frame that is not a message id (ignored; the message is sent again)
BAD_PUSH = "bad_push"  # ZeroMQ: a push whose topic is not UTF-8 (ignored)
HWM_DEFERRED = "hwm_deferred"  # ZeroMQ high-water mark reached: the send was deferred (entry stays in the outbox)


class Drops:
    """Counts by reason; safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def add(self, reason: str, n: int = 1) -> None:
        if n:
            with self._lock:
                self._counts[reason] += n

    def get(self, reason: str) -> int:
        with self._lock:
            return self._counts[reason]

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())
