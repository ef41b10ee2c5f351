"""Outbox invariants: committed means eventually delivered, priority order, TTL, the cap, corruption."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cloud_sync import Entry, Key, Outbox
from cloud_sync._sqlite import OutboxLocked

TOPIC = "edge/dev1/results/porch"


def entry(seq: int, priority: int = 1, expires: float | None = None, size: int = 100, stream: str = "porch") -> Entry:
    return Entry(Key("dev1", "b", stream, seq), TOPIC, b"x" * (size - len(TOPIC)), priority, expires)


def drain_all(box: Outbox, batch: int = 7) -> list[int]:
    """Fetch and confirm until empty; returns the delivered ids in order."""
    delivered: list[int] = []
    while messages := box.fetch(batch):
        ids = [m.id for m in messages]
        box.settle(ids, ids)
        delivered += ids
    return delivered


@settings(max_examples=40, deadline=None)
@given(
    batches=st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=20), min_size=1, max_size=8),
    confirm_pattern=st.lists(st.booleans(), min_size=1, max_size=50),
)
def test_committed_means_eventually_delivered(tmp_path_factory: object, batches: list[list[int]],
                                              confirm_pattern: list[bool]) -> None:
    path = tmp_path_factory.mktemp("ob") / "o.db"  # type: ignore[attr-defined]
    box = Outbox(path, max_bytes=10**9)
    committed: set[Key] = set()
    delivered: set[str] = set()
    seq = 0
    for n, priorities in enumerate(batches):
        entries = [entry(seq + i, p) for i, p in enumerate(priorities)]
        seq += len(entries)
        committed.update(box.add(entries))
        # a flaky link: only some of each fetched batch are confirmed; the rest must come back later
        messages = box.fetch(5)
        ok = [m.id for i, m in enumerate(messages) if confirm_pattern[(n + i) % len(confirm_pattern)]]
        box.settle([m.id for m in messages], ok)
        delivered.update(str(i) for i in ok)
        if n % 3 == 2:  # a restart: reopen the same file
            box.close()
            box = Outbox(path, max_bytes=10**9)
    delivered.update(str(i) for i in drain_all(box))
    assert len(committed) == seq
    assert len(delivered) == seq
    assert box.entries == 0
    assert box.bytes == 0
    box.close()


@settings(max_examples=30, deadline=None)
@given(priorities=st.lists(st.integers(0, 3), min_size=1, max_size=60))
def test_drains_highest_priority_first_then_oldest(tmp_path_factory: object, priorities: list[int]) -> None:
    box = Outbox(tmp_path_factory.mktemp("ob") / "o.db", max_bytes=10**9)  # type: ignore[attr-defined]
    box.add([entry(i, p) for i, p in enumerate(priorities)])
    order = drain_all(box, batch=4)
    expected = [i + 1 for i, _ in sorted(enumerate(priorities), key=lambda ip: (-ip[1], ip[0]))]
    assert order == expected
    box.close()


def test_ttl_expiry_is_counted(tmp_path: Path) -> None:
    now = [1000.0]
    box = Outbox(tmp_path / "o.db", max_bytes=10**9, clock=lambda: now[0])
    box.add([entry(0, expires=1010.0), entry(1, expires=1100.0), entry(2, expires=None)])
    now[0] = 1050.0
    assert box.expire() == 1
    assert box.drops.snapshot() == {"expired": 1}
    now[0] = 2000.0
    assert [m.id for m in box.fetch(10)] == [3]  # expired on fetch too
    assert box.drops.get("expired") == 2
    box.close()


def test_cap_reject_refuses_new_and_counts(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", max_bytes=1000, policy="reject")
    stored = box.add([entry(i) for i in range(15)])
    assert len(stored) == 10
    assert box.drops.snapshot() == {"outbox_full": 5}
    assert box.full
    drain_all(box)
    assert not box.full
    assert len(box.add([entry(100)])) == 1
    box.close()


def test_cap_drop_oldest_lowest_evicts_and_counts(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", max_bytes=1000)
    box.add([entry(i, priority=0) for i in range(5)] + [entry(i, priority=2) for i in range(5, 10)])
    assert len(box.add([entry(10, priority=1), entry(11, priority=1)])) == 2
    assert box.drops.snapshot() == {"outbox_evicted": 2}
    assert len(box.add([entry(12, priority=0)])) == 1  # evicts the oldest priority-0 entry
    left = list(box.fetch(100))
    kept = sorted(int(box._sql("SELECT seq FROM outbox WHERE id=?", (m.id,)).fetchone()[0]) for m in left)
    assert kept == [3, 4, 5, 6, 7, 8, 9, 10, 11, 12]
    box.settle([m.id for m in left], [])
    box.add([entry(i, priority=3) for i in range(20, 30)])  # evicts everything below 3
    assert box.add([entry(40, priority=0)]) == []  # nothing at or below 0 to evict: the new one is refused
    assert box.drops.snapshot() == {"outbox_evicted": 13, "outbox_full": 1}
    assert box.bytes <= 1000
    box.close()


def test_entry_larger_than_the_cap_is_counted(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", max_bytes=50)
    assert box.add([entry(0, size=60)]) == []
    assert box.drops.snapshot() == {"too_large": 1}
    box.close()


def test_corrupt_file_is_moved_aside_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    box = Outbox(path, max_bytes=10**9)
    box.add([entry(i, size=3000) for i in range(50)])
    box.close()
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    data[4096 * 2 : 4096 * 2 + 200] = b"\xff" * 200  # smash a b-tree page
    path.write_bytes(bytes(data))
    box = Outbox(path, max_bytes=10**9)
    assert box.moved_aside is not None
    assert box.moved_aside.read_bytes() == bytes(data), "the corrupt file is kept as it was"
    assert box.entries == 0
    assert len(box.add([entry(1)])) == 1
    box.close()


def test_not_a_database_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    path.write_bytes(b"this is not sqlite" * 100)
    box = Outbox(path, max_bytes=10**9)
    assert box.moved_aside is not None
    assert box.moved_aside.name.startswith("o.db.corrupt-")
    box.close()


def test_duplicate_key_is_stored_once(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "o.db", max_bytes=10**9)
    assert len(box.add([entry(1), entry(1)])) == 1
    assert box.entries == 1
    box.close()


def test_large_group_with_a_stored_key_keeps_counts_exact(tmp_path: Path) -> None:
    # 250 entries go in several multi-row statements; one key already stored sends the group down the slow path
    box = Outbox(tmp_path / "o.db", max_bytes=10**9)
    assert len(box.add([entry(i) for i in range(250)])) == 250
    again = box.add([entry(i) for i in range(249, 400)])
    assert [k.seq for k in again] == list(range(250, 400))
    assert box.entries == 400
    assert box.bytes == 400 * 100
    assert len(drain_all(box, batch=64)) == 400
    assert (box.entries, box.bytes) == (0, 0)
    box.close()


@settings(max_examples=10, deadline=None)
@given(in_flight=st.sampled_from([0, 5, 900, 901, 1500]), priorities=st.lists(st.integers(0, 3), max_size=30))
def test_fetch_skips_entries_in_flight(tmp_path_factory: object, in_flight: int, priorities: list[int]) -> None:
    # both ways of skipping: in the query (up to 900 in flight) and after it (more)
    box = Outbox(tmp_path_factory.mktemp("ob") / "o.db", max_bytes=10**9)  # type: ignore[attr-defined]
    old = [entry(i) for i in range(in_flight + 20)]
    new = [entry(10_000 + i, p) for i, p in enumerate(priorities)]
    box.add(old)
    first = box.fetch(in_flight)
    box.add(new)
    second = box.fetch(10_000)
    assert [m.id for m in first] == list(range(1, in_flight + 1))
    rest = [(1, i) for i in range(in_flight + 1, len(old) + 1)]
    rest += [(p, len(old) + 1 + i) for i, p in enumerate(priorities)]
    assert [m.id for m in second] == [i for _, i in sorted(rest, key=lambda pi: (-pi[0], pi[1]))]
    box.close()


def test_a_locked_outbox_is_refused_not_moved_aside(tmp_path: Path) -> None:
    """Another process holding the file (a second runtime on the same outbox) is not corruption."""
    path = tmp_path / "outbox.db"
    Outbox(path, 1 << 20, "reject").close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA locking_mode=EXCLUSIVE")  # with WAL, only this keeps other readers out
    holder.execute("BEGIN EXCLUSIVE")
    holder.execute("DELETE FROM outbox")
    try:
        with pytest.raises(OutboxLocked, match="locked by another process"):
            Outbox(path, 1 << 20, "reject")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert sorted(p.name for p in tmp_path.iterdir() if "corrupt" in p.name) == []
