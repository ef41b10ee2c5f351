"""The outbox's group committer: an accepted entry counts as buffered until it is in the outbox, with no gap."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

from cloud_sync._committer import Committer
from cloud_sync.counters import Drops
from cloud_sync.envelope import Key
from cloud_sync.outbox import Entry, Outbox
from tests.cloud.support import envelope


def test_an_entry_being_committed_still_counts_as_buffered(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db", max_bytes=10**9)  # the real SQLite outbox; its commit is held
    adding, go = threading.Event(), threading.Event()
    store = outbox.add

    def held_add(entries: Sequence[Entry]) -> list[Key]:  # a commit on a busy SD card
        adding.set()
        assert go.wait(5)
        return store(entries)

    outbox.add = held_add  # type: ignore[method-assign]
    committer = Committer(capacity=10, batch=1, prefix="edge", drops=Drops())
    committed: list[Key] = []
    try:
        with committer.running(outbox, committed.extend):
            assert committer.offer((envelope(1), 1, None))
            assert adding.wait(5)  # taken from the buffer, in the transaction
            # neither buffered nor in the outbox would read as "all sent" (a snapshot would then go ahead of it)
            assert len(committer) + outbox.entries == 1
            go.set()
            committer.flush()
            assert (len(committer), outbox.entries, len(committed)) == (0, 1, 1)
    finally:
        go.set()
        outbox.close()
