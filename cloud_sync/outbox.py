"""The durable outbox: SQLite in WAL mode, group commits, priority drain, a byte cap with a stated policy.

At-least-once: an entry is deleted only when the transport confirms it. Methods block (SQLite I/O): call them
from the committer thread or the drain executor, never from the event loop. One lock serialises them.

A failing disk (full, read-only, a file that cannot be opened) never raises out of here: new entries are refused
and counted, stored ones are kept (and sent while the file is open), and the outbox tries again each second (see
`_storage`).
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from cloud_sync._sqlite import OutboxLocked, open_outbox_db
from cloud_sync._storage import StorageState, storage_reason
from cloud_sync.counters import EXPIRED, OUTBOX_EVICTED, OUTBOX_FULL, TOO_LARGE, Drops
from cloud_sync.envelope import Key, Message

Policy = Literal["reject", "drop_oldest_lowest"]
LOW_SPACE_BYTES = 16 * 1024**2  # free space under which the WAL is folded back after each commit
_CHUNK = 500  # ids per statement, under every SQLite's variable limit
_SKIP_IN_SQL = 900  # in-flight ids a fetch excludes in its query (with the limit: under 999 variables)
_INSERT = (
    "INSERT OR IGNORE INTO outbox (device, boot_id, stream, seq, priority, expires, topic, payload, size, added) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
Row = tuple[str, str, str, int, int, float | None, str, bytes, int, float]
# Many rows per INSERT statement: one sqlite3_step, so one release of the GIL, per statement instead of per row
# (each re-acquisition can wait on a busy event loop). 90 rows x 10 values stays under every SQLite's limit (999).
_ROWS_PER_INSERT = 90


@functools.lru_cache(maxsize=_ROWS_PER_INSERT)
def _insert_rows(n: int) -> str:
    return _INSERT + ", (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" * (n - 1)


@dataclass(frozen=True, slots=True)
class Entry:
    """One envelope ready to store: key, topic, encoded payload, priority (higher drains first), expiry."""

    key: Key
    topic: str
    payload: bytes
    priority: int = 1
    expires: float | None = None

    @property
    def size(self) -> int:
        return len(self.topic) + len(self.payload)


def _row(entry: Entry, size: int, added: float) -> Row:
    key = entry.key
    return (key.device, key.boot_id, key.stream, key.seq, entry.priority, entry.expires, entry.topic, entry.payload,
            size, added)


class Outbox:
    """Stores entries until the transport confirms them. Thread-safe; every method may block on disk."""

    def __init__(
        self,
        path: Path,
        max_bytes: int,
        policy: Policy = "drop_oldest_lowest",
        *,
        synchronous: str = "normal",
        drops: Drops | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.policy: Policy = policy
        self.drops = drops or Drops()
        self._clock = clock
        self._lock = threading.Lock()
        self._synchronous = synchronous
        self._conn: sqlite3.Connection | None = None
        self.moved_aside: Path | None = None
        self.storage = StorageState(path, self.drops)
        self._count = 0
        self._bytes = 0
        self._inflight: set[int] = set()
        self._undeleted: set[int] = set()  # confirmed, but the delete failed (a storage fault): retried, not sent
        self.full = False  # policy reject only: the last add was refused and nothing has left since
        self._oldest: float | None = None  # when the oldest stored entry was added (see `note_oldest`)
        with self._lock:
            self._open(first=True)

    def _open(self, first: bool = False) -> bool:
        """Open the file (a storage fault leaves it closed, recorded, retried later); True when open.

        A file locked by another process is refused on the first open (OutboxLocked); on a retry it is a fault."""
        try:
            self._conn, self.moved_aside = open_outbox_db(self.path, self._synchronous)
            self._count, self._bytes = self._sql(
                "SELECT count(*), coalesce(sum(size), 0) FROM outbox"
            ).fetchone()
        except OutboxLocked:
            if first:
                raise
            self.storage.failed(OSError("locked by another process"), 0)
            return False
        except (OSError, sqlite3.Error) as exc:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self.storage.failed(exc, 0)
            return False
        return True

    def _usable(self) -> sqlite3.Connection | None:
        """With the lock held: the connection when the disk may be written now (retrying after a fault)."""
        if not self.storage.may_try():
            return None
        if self._conn is None and not self._open():
            return None
        if not self.storage.ok:
            self._keep_wal_small()
        return self._conn

    def _keep_wal_small(self) -> None:
        """On a nearly full disk, fold the WAL into the database file after each commit: the WAL otherwise grows
        to its checkpoint size (4 MiB) and would fill the disk by itself."""
        try:
            info = os.statvfs(self.path.parent)
        except OSError:
            return
        if info.f_bavail * info.f_frsize < LOW_SPACE_BYTES:
            with contextlib.suppress(sqlite3.Error):
                self._sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    @property
    def entries(self) -> int:
        return self._count

    @property
    def bytes(self) -> int:
        return self._bytes

    def note_oldest(self) -> None:
        """Read when the oldest stored entry was added (the first row id: one indexed step). The committer thread
        calls this after its commits and every few seconds, so `oldest_age_s` never touches the disk."""
        with self._lock:
            if self._conn is None:
                return
            with contextlib.suppress(sqlite3.Error):
                row = self._conn.execute("SELECT added FROM outbox ORDER BY id LIMIT 1").fetchone()
                self._oldest = row[0] if row is not None else None

    @property
    def oldest_age_s(self) -> float:
        """Seconds since the oldest stored entry was added, as of the last `note_oldest` (0 when empty)."""
        if self._count == 0 or self._oldest is None:
            return 0.0
        return max(0.0, self._clock() - self._oldest)

    def add(self, entries: Sequence[Entry]) -> list[Key]:
        """Store entries in one transaction (a group commit); returns the keys now durably stored.

        A key already stored is not stored twice (and not returned). Refused and evicted entries are counted.
        """
        committed: list[Key] = []
        with self._lock:
            conn = self._usable()
            if conn is None:
                self.storage.refuse(len(entries))
                return []
            try:
                conn.execute("BEGIN IMMEDIATE")
                undeleted = self._delete_undeleted()
                fitted = self._insert_fitting(entries)
                committed = fitted if fitted is not None else [e.key for e in entries if self._insert(e)]
                conn.execute("COMMIT")
                self._undeleted.difference_update(undeleted)
                self._keep_wal_small()
            except BaseException as exc:
                self._rollback()
                if not isinstance(exc, sqlite3.Error) or storage_reason(exc) is None:
                    raise
                self.storage.failed(exc, len(entries))
                return []
            self.storage.recovered()
        return committed

    def _rollback(self) -> None:
        """Undo the open transaction, if SQLite has not already (it rolls back by itself on a full disk)."""
        conn = self._conn
        if conn is not None and conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        self._recount()

    def _delete_undeleted(self) -> list[int]:
        """Inside a transaction: delete the entries confirmed while the disk refused deletes; returns their ids."""
        ids = list(self._undeleted)
        if ids:
            self._delete_ids(ids)
        return ids

    def _insert_fitting(self, entries: Sequence[Entry]) -> list[Key] | None:
        """The common case in one statement: everything fits under the cap and no key is stored yet.

        Returns None (having changed nothing) when that is not so: then the entries go one by one.
        """
        sizes = [entry.size for entry in entries]
        total = sum(sizes)
        if self._bytes + total > self.max_bytes:
            return None
        conn = self._db()
        conn.execute("SAVEPOINT fitting")
        before = conn.total_changes
        now = self._clock()
        rows = [_row(entry, size, now) for entry, size in zip(entries, sizes, strict=True)]
        for start in range(0, len(rows), _ROWS_PER_INSERT):
            chunk = rows[start : start + _ROWS_PER_INSERT]
            conn.execute(_insert_rows(len(chunk)), [value for row in chunk for value in row])
        if conn.total_changes - before != len(entries):  # a key was already stored
            conn.execute("ROLLBACK TO fitting")
            conn.execute("RELEASE fitting")
            return None
        conn.execute("RELEASE fitting")
        self._count += len(entries)
        self._bytes += total
        return [entry.key for entry in entries]

    def fetch(self, limit: int) -> list[Message]:
        """The next entries to send, highest priority first, oldest first within a priority.

        Entries already fetched and not yet settled are skipped; expired entries are dropped first.
        """
        with self._lock:
            if self._conn is None:
                return []
            with contextlib.suppress(sqlite3.Error):  # a disk that refuses the delete: expire next time
                self._expire_locked()
            skip = self._inflight | self._undeleted
            if len(skip) <= _SKIP_IN_SQL:  # the usual case: one batch in flight; skipped rows are not even read
                marks = ",".join("?" * len(skip))
                rows = self._sql(
                    f"SELECT id, topic, payload FROM outbox WHERE id NOT IN ({marks}) ORDER BY priority DESC, id "
                    "LIMIT ?", (*skip, limit),
                ).fetchall()
            else:
                rows = self._sql(
                    "SELECT id, topic, payload FROM outbox ORDER BY priority DESC, id LIMIT ?", (limit + len(skip),)
                ).fetchall()
            batch = [Message(r[0], r[1], r[2]) for r in rows if r[0] not in skip][:limit]
            self._inflight.update(m.id for m in batch)
        return batch

    def settle(self, sent: Iterable[int], confirmed: Iterable[int]) -> int:
        """Delete confirmed entries and make the unconfirmed ones of `sent` eligible again; returns deletions."""
        ids = list(confirmed)
        with self._lock:
            self._inflight.difference_update(sent)
            self._inflight.difference_update(ids)
            if not ids:
                return 0
            ids += self._undeleted
            conn = self._db()
            try:
                conn.execute("BEGIN IMMEDIATE")
                removed = self._delete_ids(ids)
                conn.execute("COMMIT")
                self._keep_wal_small()
            except BaseException as exc:
                self._rollback()
                if not isinstance(exc, sqlite3.Error) or storage_reason(exc) is None:
                    raise
                self._undeleted.update(ids)  # delivered: never sent again by this process, deleted later
                return 0
            self._undeleted.clear()
        return removed

    def expire(self) -> int:
        """Drop entries whose TTL ran out (counted as `expired`); returns how many."""
        with self._lock:
            if self._conn is None:
                return 0
            try:
                return self._expire_locked()
            except sqlite3.Error as exc:
                if storage_reason(exc) is None:
                    raise
                self._rollback()
                return 0

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()

    def _db(self) -> sqlite3.Connection:
        assert self._conn is not None, "the outbox is not open"
        return self._conn

    def _sql(self, sql: str, params: Sequence[object] = ()) -> sqlite3.Cursor:
        return self._db().execute(sql, params)

    def _insert(self, entry: Entry) -> bool:
        size = entry.size
        if size > self.max_bytes:
            self.drops.add(TOO_LARGE)
            return False
        if self._bytes + size > self.max_bytes and not self._make_room(size, entry.priority):
            self.drops.add(OUTBOX_FULL)
            # Only `reject` pushes back on put(): under drop_oldest_lowest a refused low entry must not stop a
            # later, higher one from evicting older lower entries.
            self.full = self.policy == "reject"
            return False
        cur = self._sql(_INSERT, _row(entry, size, self._clock()))
        if cur.rowcount != 1:
            return False  # the same key is already stored
        self._count += 1
        self._bytes += size
        return True

    def _make_room(self, size: int, priority: int) -> bool:
        """drop_oldest_lowest: evict the oldest entries of the lowest priorities not above `priority`."""
        if self.policy == "reject":
            return False
        need = self._bytes + size - self.max_bytes
        victims: list[int] = []
        freed = 0
        rows = self._sql("SELECT id, size FROM outbox WHERE priority <= ? ORDER BY priority, id", (priority,))
        for row_id, row_size in rows:
            if row_id in self._inflight:
                continue
            victims.append(row_id)
            freed += row_size
            if freed >= need:
                break
        rows.close()
        if freed < need:
            return False
        self._delete_ids(victims)
        self.drops.add(OUTBOX_EVICTED, len(victims))
        return True

    def _delete_ids(self, ids: list[int]) -> int:
        removed = 0
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            marks = ",".join("?" * len(chunk))
            n, size = self._sql(
                f"SELECT count(*), coalesce(sum(size), 0) FROM outbox WHERE id IN ({marks})", chunk
            ).fetchone()
            self._sql(f"DELETE FROM outbox WHERE id IN ({marks})", chunk)
            self._count -= n
            self._bytes -= size
            removed += n
        if removed:
            self.full = False
        return removed

    def _expire_locked(self) -> int:
        now = self._clock()
        n, size = self._sql(
            "SELECT count(*), coalesce(sum(size), 0) FROM outbox WHERE expires IS NOT NULL AND expires < ?", (now,)
        ).fetchone()
        if n:
            self._sql("DELETE FROM outbox WHERE expires IS NOT NULL AND expires < ?", (now,))
            self._count -= n
            self._bytes -= size
            self.full = False
            self.drops.add(EXPIRED, n)
        return int(n)

    def _recount(self) -> None:
        if self._conn is None:
            return
        with contextlib.suppress(sqlite3.Error):
            self._count, self._bytes = self._conn.execute(
                "SELECT count(*), coalesce(sum(size), 0) FROM outbox"
            ).fetchone()
