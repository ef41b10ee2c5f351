"""The outbox's disk failing: full, read-only, or the file cannot be opened.

A storage fault is not a crash: new entries are refused and counted (`disk_full`, `outbox_unwritable`), what
was committed stays in the file, the streams and local sinks keep running, and the outbox tries again every
RETRY_S until the disk takes writes again. The user sees one line when the fault starts (naming the file and
the cause), a summary with a count at most every SUMMARY_S while it lasts, and one line when it ends.
"""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from cloud_sync.counters import DISK_FULL, OUTBOX_UNWRITABLE, Drops

log = logging.getLogger("cloud_sync.outbox")

RETRY_S = 1.0
SUMMARY_S = 60.0
_SQLITE_FULL = 13
_SQLITE_STORAGE = {3, 8, 10, 14, 15}  # PERM, READONLY, IOERR, CANTOPEN, PROTOCOL (lock files it cannot make)


def storage_reason(exc: BaseException) -> str | None:
    """`disk_full` or `outbox_unwritable` when `exc` is the disk failing; None for any other error."""
    if isinstance(exc, sqlite3.Error):
        code = (getattr(exc, "sqlite_errorcode", 0) or 0) & 0xFF
        if code == _SQLITE_FULL or "disk is full" in str(exc):
            return DISK_FULL
        return OUTBOX_UNWRITABLE if code in _SQLITE_STORAGE else None
    if isinstance(exc, OSError):
        return DISK_FULL if exc.errno == errno.ENOSPC else OUTBOX_UNWRITABLE
    return None


def describe(path: Path, reason: str, exc: BaseException) -> str:
    """The cause in a few words a user acts on: disk full, read-only file system, directory not writable."""
    if reason == DISK_FULL:
        return "disk full"
    directory = path.parent
    while not directory.exists() and directory != directory.parent:  # the directory could not be made
        directory = directory.parent
    try:
        if os.statvfs(directory).f_flag & os.ST_RDONLY:
            return "read-only file system"
        if not os.access(directory, os.W_OK):
            return f"directory {directory} is not writable"
    except OSError as err:
        return f"directory {directory}: {err.strerror or err}"
    text = getattr(exc, "strerror", None) or str(exc)
    return " ".join(str(text).split())[:120]


class StorageState:
    """Healthy, or failing since a moment for a reason; counts what is refused and logs only the changes."""

    def __init__(self, path: Path, drops: Drops, clock: Callable[[], float] = time.monotonic) -> None:
        self.path = path
        self.drops = drops
        self.reason: str | None = None
        self.cause = ""
        self.refused = 0  # while the current fault lasts
        self._clock = clock
        self._retry_at = 0.0
        self._summary_at = 0.0
        self._summary_refused = 0

    @property
    def ok(self) -> bool:
        return self.reason is None

    def may_try(self) -> bool:
        """Whether to touch the disk now: always when healthy, every RETRY_S while failing."""
        return self.reason is None or self._clock() >= self._retry_at

    def failed(self, exc: BaseException, refused: int) -> None:
        """A write (or the open) failed with a storage error: count `refused` entries, say so once."""
        reason = storage_reason(exc) or OUTBOX_UNWRITABLE
        now = self._clock()
        self._retry_at = now + RETRY_S
        if self.reason is None or reason != self.reason:
            self.reason, self.cause = reason, describe(self.path, reason, exc)
            self._summary_at, self._summary_refused = now + SUMMARY_S, 0
            log.error(
                "outbox %s: %s: new results are refused and counted as %s until it can write again; "
                "what is stored is kept, the streams keep running", self.path, self.cause, reason,
            )  # fmt: skip
        self.refuse(refused)

    def refuse(self, n: int) -> None:
        """Entries refused because the storage is failing (counted under its reason)."""
        assert self.reason is not None
        self.drops.add(self.reason, n)
        self.refused += n
        self._summary_refused += n
        now = self._clock()
        if now >= self._summary_at:
            log.warning(
                "outbox %s: still %s: %d more results refused in the last %.0f s",
                self.path, self.cause, self._summary_refused, SUMMARY_S,
            )  # fmt: skip
            self._summary_at, self._summary_refused = now + SUMMARY_S, 0

    def recovered(self) -> None:
        if self.reason is not None:
            log.warning("outbox %s: writes again after %s (%d results refused); delivery resumes",
                        self.path, self.cause, self.refused)  # fmt: skip
            self.reason, self.cause, self.refused = None, "", 0
