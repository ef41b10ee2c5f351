"""Opening the outbox file: WAL mode, an integrity check, and a corrupt file moved aside (never deleted)."""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

log = logging.getLogger("cloud_sync.outbox")

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL,
    boot_id TEXT NOT NULL,
    stream TEXT NOT NULL,
    seq INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    expires REAL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL,
    size INTEGER NOT NULL,
    added REAL,
    UNIQUE (device, boot_id, stream, seq)
);
CREATE INDEX IF NOT EXISTS outbox_drain ON outbox (priority DESC, id);
CREATE INDEX IF NOT EXISTS outbox_evict ON outbox (priority, id);
CREATE INDEX IF NOT EXISTS outbox_expires ON outbox (expires) WHERE expires IS NOT NULL;
"""


class OutboxCorrupt(Exception):
    """The file failed its integrity check (raised internally; the file is then moved aside)."""


def _connect(path: Path, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        rows = conn.execute("PRAGMA integrity_check").fetchall()
        if rows != [("ok",)]:
            raise OutboxCorrupt("; ".join(str(r[0]) for r in rows[:3]))
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous.upper()}")
        conn.executescript(SCHEMA)
        _add_added_column(conn)
    except (sqlite3.DatabaseError, OutboxCorrupt):
        conn.close()
        raise
    return conn


def _add_added_column(conn: sqlite3.Connection) -> None:
    """An outbox made before entries recorded when they were added gets the column; its entries count from now."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(outbox)")}
    if "added" not in columns:
        conn.execute("ALTER TABLE outbox ADD COLUMN added REAL")
        conn.execute("UPDATE outbox SET added = ?", (time.time(),))


def move_aside(path: Path) -> Path:
    """Rename the file (and its -wal/-shm companions) to `<name>.corrupt-<unix time>`; returns the new path."""
    target = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{int(time.time())}-{n}")
        n += 1
    path.rename(target)
    for suffix in ("-wal", "-shm"):
        companion = path.with_name(path.name + suffix)
        if companion.exists():
            companion.rename(target.with_name(target.name + suffix))
    return target


class OutboxLocked(OSError):
    """The outbox file is held by another process; it is left as it is."""


def open_outbox_db(path: Path, synchronous: str = "normal") -> tuple[sqlite3.Connection, Path | None]:
    """Open (creating) the database; a corrupt file is moved aside and a fresh one started.

    Returns the connection and, when a corrupt file was found, where it now is.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _connect(path, synchronous), None
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):  # another process holds it: not corrupt, never moved
            raise OutboxLocked(f"outbox {path} is locked by another process (is another runtime using it?)") from None
        raise
    except (sqlite3.DatabaseError, OutboxCorrupt) as exc:
        moved = move_aside(path)
        log.error("outbox %s is corrupt (%s): moved aside to %s, starting an empty outbox", path, exc, moved)
        return _connect(path, synchronous), moved
