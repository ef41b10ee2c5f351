"""The outbox's oldest-entry age: recorded per entry, read by one indexed step, and given to outboxes made before
entries recorded it (their entries count from the upgrade)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cloud_sync.envelope import Key
from cloud_sync.outbox import Entry, Outbox

OLD_SCHEMA = """
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT, device TEXT NOT NULL, boot_id TEXT NOT NULL, stream TEXT NOT NULL,
    seq INTEGER NOT NULL, priority INTEGER NOT NULL, expires REAL, topic TEXT NOT NULL, payload BLOB NOT NULL,
    size INTEGER NOT NULL, UNIQUE (device, boot_id, stream, seq)
);
"""


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def entry(seq: int) -> Entry:
    return Entry(Key("dev", "boot", "cam", seq), "edge/dev/results/cam", b"{}")


def test_the_oldest_entry_ages_and_the_age_follows_the_drain(tmp_path: Path) -> None:
    clock = Clock(1000.0)
    outbox = Outbox(tmp_path / "outbox.db", 1 << 20, clock=clock)
    outbox.note_oldest()
    assert outbox.oldest_age_s == 0.0  # empty
    outbox.add([entry(1)])
    clock.now = 1010.0
    outbox.add([entry(2), entry(3)])
    outbox.note_oldest()
    clock.now = 1012.5
    assert outbox.oldest_age_s == 12.5
    first = outbox.fetch(1)
    outbox.settle([first[0].id], [first[0].id])
    outbox.note_oldest()
    assert outbox.oldest_age_s == 2.5  # entry 1 delivered: entry 2 is the oldest now
    outbox.close()


def test_an_outbox_from_before_the_age_column_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(OLD_SCHEMA)
        conn.execute("INSERT INTO outbox (device, boot_id, stream, seq, priority, expires, topic, payload, size) "
                     "VALUES ('dev', 'boot', 'cam', 1, 1, NULL, 't', x'7b7d', 3)")  # fmt: skip
    conn.close()
    outbox = Outbox(path, 1 << 20)
    assert outbox.entries == 1
    outbox.note_oldest()
    assert 0.0 <= outbox.oldest_age_s < 60.0  # counted from the upgrade, not unknown
    outbox.add([entry(2)])
    assert outbox.entries == 2
    outbox.close()
