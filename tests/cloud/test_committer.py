"""The outbox's group committer: an accepted entry counts as buffered until it is in the outbox, with no gap."""

from __future__ import annotations

import threading
from typing import Any

from cloud_sync._committer import Committer
from cloud_sync.counters import Drops
from cloud_sync.outbox import Outbox
from tests.cloud.support import envelope


class _SlowOutbox:
    """An outbox whose `add` waits until the test lets it go (a commit on a busy SD card)."""

    path = "slow.db"

    def __init__(self) -> None:
        self.adding = threading.Event()
        self.go = threading.Event()
        self.entries = 0

    def add(self, entries: list[Any]) -> list[Any]:
        self.adding.set()
        assert self.go.wait(5)
        self.entries += len(entries)
        return [e.key for e in entries]

    def expire(self) -> None:
        pass

    def note_oldest(self) -> None:
        pass


def test_an_entry_being_committed_still_counts_as_buffered() -> None:
    outbox = _SlowOutbox()
    committer = Committer(capacity=10, batch=1, prefix="edge", drops=Drops())
    committed: list[Any] = []
    with committer.running(outbox, committed.extend):  # type: ignore[arg-type]  # the part of Outbox it uses
        assert committer.offer((envelope(1), 1, None))
        assert outbox.adding.wait(5)  # taken from the buffer, in the transaction
        # neither buffered nor in the outbox would read as "all sent" (a snapshot would then go ahead of it)
        assert len(committer) + outbox.entries == 1
        outbox.go.set()
        committer.flush()
        assert (len(committer), outbox.entries, len(committed)) == (0, 1, 1)


def test_the_slow_outbox_stands_in_for_the_methods_the_committer_calls() -> None:
    for name in ("add", "expire", "note_oldest"):
        assert callable(getattr(Outbox, name))
