"""The ingest database: SQLite (one file, WAL) or PostgreSQL (psycopg 3), behind one `Store`.

`write(rows)` stores one batch in one transaction: keyed rows with insert-or-ignore on (device, boot_id, stream,
seq), so a message delivered twice makes one row; device rows upserted in device order (two workers never
deadlock on them). A batch the database refuses as a whole (e.g. a string PostgreSQL cannot hold) is written
row by row; a row it still refuses goes to `rejected` with the database's reason.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloud_sync.ingest._devices import device_updates
from cloud_sync.ingest._rows import Keyed, ModelStatus, Rejected, Row
from cloud_sync.ingest._schema import POSTGRES, SQLITE, Dialect, SchemaError, pending

log = logging.getLogger("cloud_sync.ingest")
_LOCK_ID = 15_015  # PostgreSQL advisory lock held while migrating

_INSERT_KEYED = ("INSERT INTO {table} (device, boot_id, stream, seq, kind, ts_result, received_at, payload) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?, ?::json) ON CONFLICT DO NOTHING")
_INSERT_MODEL = ("INSERT INTO model_status (device, push_id, name, version, state, reason, received_at) "
                 "VALUES (?, ?, ?, ?, ?, ?, ?)")
_INSERT_REJECTED = "INSERT INTO rejected (topic, reason, size, head, received_at) VALUES (?, ?, ?, ?, ?)"
_UPSERT_DEVICE = """INSERT INTO devices (device, online, status_at, last_seen, boot_id, outbox_depth, uplink_drops)
    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device) DO UPDATE SET
    online = CASE WHEN excluded.status_at IS NOT NULL AND (devices.status_at IS NULL
                  OR excluded.status_at >= devices.status_at) THEN excluded.online ELSE devices.online END,
    status_at = COALESCE(excluded.status_at, devices.status_at),
    last_seen = CASE WHEN devices.last_seen IS NULL OR excluded.last_seen > devices.last_seen
                THEN excluded.last_seen ELSE devices.last_seen END,
    boot_id = COALESCE(excluded.boot_id, devices.boot_id),
    outbox_depth = COALESCE(excluded.outbox_depth, devices.outbox_depth),
    uplink_drops = COALESCE(excluded.uplink_drops, devices.uplink_drops)"""


@dataclass
class Written:
    """What a batch did: rows added, keyed messages already stored, messages rejected."""

    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0


class Store:
    """One connection to the ingest database; used from one thread at a time. A write still running in its worker
    thread when the command stops (its task cancelled) finishes before `close`: closing a connection another thread
    is using crashes the process."""

    def __init__(self, conn: Any, dialect: Dialect, where: str) -> None:
        self.conn = conn
        self.dialect = dialect
        self.where = where
        self._retryable, self._refusals = _errors(dialect)
        self._using = threading.Lock()

    # -- schema ------------------------------------------------------------------------------------------------

    def migrate(self) -> None:
        """Create or upgrade the schema (one transaction; concurrent workers wait for each other)."""
        with self.transaction() as cur:
            if self.dialect is POSTGRES:
                cur.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_ID,))
            cur.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
            cur.execute("SELECT version FROM schema_version")
            row = cur.fetchone()
            current = int(row[0]) if row else 0
            for version, statements in pending(current):
                for statement in statements:
                    cur.execute(self.dialect.sql(statement))
                log.info("%s: schema migrated to version %d", self.where, version)
                current = version
            cur.execute("DELETE FROM schema_version")
            cur.execute(self.sql("INSERT INTO schema_version (version) VALUES (?)"), (current,))

    def sql(self, text: str) -> str:
        return self.dialect.sql(text)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        cur = self.conn.cursor()
        if self.dialect is SQLITE:
            cur.execute("BEGIN IMMEDIATE")
        try:
            yield cur
        except BaseException:
            self.conn.rollback()
            raise
        else:
            self.conn.commit()
        finally:
            cur.close()

    def query(self, text: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        cur = self.conn.cursor()
        try:
            cur.execute(self.sql(text), tuple(params))
            rows = [tuple(r) for r in cur.fetchall()]
        finally:
            cur.close()
        self.conn.commit()  # end PostgreSQL's implicit read transaction
        return rows

    # -- writing -----------------------------------------------------------------------------------------------

    def write(self, rows: Sequence[Row], attempts: int = 5) -> Written:
        """Store one batch; returns when it is committed (the caller then acknowledges its messages)."""
        with self._using:
            return self._write_batch(rows, attempts)

    def _write_batch(self, rows: Sequence[Row], attempts: int) -> Written:
        for attempt in range(1, attempts + 1):
            try:
                with self.transaction() as cur:
                    return self._write(cur, rows)
            except self._retryable as exc:  # a deadlock or serialization failure between workers: try again
                log.warning("%s: batch retried (%s)", self.where, _line(exc))
                if attempt == attempts:
                    raise
            except self._refusals as exc:  # the database refused something in the batch
                log.warning("%s: batch refused (%s); writing it row by row", self.where, _line(exc))
                return self._write_each(rows)
        return Written()  # attempts < 1: nothing tried

    def _write_each(self, rows: Sequence[Row]) -> Written:
        total = Written()
        for row in rows:
            try:
                with self.transaction() as cur:
                    written = self._write(cur, [row])
            except self._refusals as exc:  # this row is what the database refuses
                with self.transaction() as cur:
                    written = self._write(cur, [_refused(row, exc)])
            total.inserted += written.inserted
            total.duplicates += written.duplicates
            total.rejected += written.rejected
        return total

    def _write(self, cur: Any, rows: Sequence[Row]) -> Written:
        written = Written()
        keyed = sorted((r for r in rows if isinstance(r, Keyed)), key=lambda r: (r.device, r.boot_id, r.stream, r.seq))
        for table in ("results", "events", "stats"):
            params = [(r.device, r.boot_id, r.stream, r.seq, r.kind, r.ts_result, r.received_at, r.payload)
                      for r in keyed if r.table == table]
            if params:
                added = self._many(cur, _INSERT_KEYED.format(table=table), params)
                written.inserted += added
                written.duplicates += len(params) - added
        models = [(r.device, r.push_id, r.name, r.version, r.state, r.reason, r.received_at)
                  for r in rows if isinstance(r, ModelStatus)]
        written.inserted += self._many(cur, _INSERT_MODEL, models)
        rejected = [(r.topic, r.reason, r.size, r.head, r.received_at) for r in rows if isinstance(r, Rejected)]
        written.rejected = len(rejected)
        self._many(cur, _INSERT_REJECTED, rejected)
        self._many(cur, _UPSERT_DEVICE, device_updates(rows))
        return written

    def _many(self, cur: Any, statement: str, params: Sequence[tuple[Any, ...]]) -> int:
        if not params:
            return 0
        cur.executemany(self.sql(statement), params)
        return max(int(cur.rowcount), 0)

    def close(self) -> None:
        with self._using:
            self.conn.close()


def _line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:200] or type(exc).__name__


def _refused(row: Row, exc: BaseException) -> Rejected:
    topic = f"{row.device}/{row.table}/{row.stream}" if isinstance(row, Keyed) else getattr(row, "device", "?")
    payload = row.payload.encode(errors="replace") if isinstance(row, Keyed) else b""
    topic = topic.encode(errors="replace").decode()
    reason = f"database refused it: {_line(exc)}".encode(errors="replace").decode()
    return Rejected(topic, reason, len(payload), payload[:256], getattr(row, "received_at", 0.0))


_Errors = tuple[type[Exception], ...]


def _errors(dialect: Dialect) -> tuple[_Errors, _Errors]:
    """(errors worth retrying the batch for, errors that mean the database refuses a row's content)."""
    if dialect is POSTGRES:
        import psycopg

        return ((psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure),
                (psycopg.DataError, psycopg.IntegrityError, ValueError))
    # "database is locked" past the busy timeout; a string with a lone surrogate is a ValueError
    return (sqlite3.OperationalError,), (sqlite3.DataError, sqlite3.IntegrityError, ValueError)


# -- opening ---------------------------------------------------------------------------------------------------

def open_store(db: str, *, create: bool = True) -> Store:
    """`db` is a SQLite file path or a ``postgresql://`` URL; the schema is migrated on open. Without `create`,
    a SQLite file that does not exist yet is refused (a reader must not leave an empty database behind)."""
    postgres = db.startswith(("postgresql://", "postgres://"))
    if not (postgres or create or Path(db).is_file()):
        raise ValueError(f"{db}: no such database (edge-cloud ingest --db {db} makes it)")
    opener: Callable[[str], Store] = _open_postgres if postgres else _open_sqlite
    try:
        store = opener(db)
    except sqlite3.Error as exc:
        raise ValueError(f"{db}: {_line(exc)}") from None
    refusals: tuple[type[Exception], ...] = (SchemaError, *_database_errors(store.dialect))
    try:
        store.migrate()
    except refusals as exc:
        store.close()
        raise ValueError(f"{store.where}: {_line(exc)}") from None
    except BaseException:
        store.close()
        raise
    return store


def _database_errors(dialect: Dialect) -> tuple[type[Exception], ...]:
    if dialect is POSTGRES:
        import psycopg

        return (psycopg.Error,)
    return (sqlite3.Error,)


def _open_sqlite(path: str) -> Store:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, isolation_level=None, timeout=30.0, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return Store(conn, SQLITE, path)


def _open_postgres(url: str) -> Store:
    try:
        import psycopg
    except ImportError:
        raise ValueError("--db postgresql://... needs psycopg: pip install 'edge-runtime[cloud]'") from None
    try:
        conn = psycopg.connect(url, connect_timeout=10)
    except psycopg.Error as exc:
        raise ConnectionError(f"cannot connect to {_redacted(url)}: {_line(exc)}") from None
    return Store(conn, POSTGRES, _redacted(url))


def _redacted(url: str) -> str:
    """The URL without its password."""
    scheme, _, rest = url.partition("://")
    userinfo, at, host = rest.rpartition("@")
    return f"{scheme}://{userinfo.partition(':')[0]}{at}{host}" if at else url
