"""The `jsonl` sink: one envelope per line, written and flushed by a named writer thread."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import queue
import stat
import threading
import time
from pathlib import Path

from cloud_sync.counters import BAD_ENVELOPE
from cloud_sync.envelope import Envelope
from cloud_sync.strict_json import dumps as strict_dumps
from edge_runtime.drops import QUEUE_FULL, DropCounter
from edge_runtime.sinks._base import Sink

log = logging.getLogger(__name__)
_STOP = object()
WRITE_ERROR = "write_error"  # drop reason: the file refused the write (disk full, I/O error)
SUMMARY_S = 60.0


class JsonlSink(Sink):
    """Appends envelopes to a file. Each batch the writer takes is written whole, then flushed, so a reader
    (or a crash) only ever sees complete lines."""

    def __init__(self, name: str, path: Path, max_queue: int = 10_000) -> None:
        super().__init__(name)
        self.path = path
        self.drops = DropCounter()
        self.written = 0
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_queue)
        self._failing_since: float | None = None  # writing has failed since then (writer thread only)
        self._summary_at = 0.0
        self._failed = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fd = _open_append(path)
        self._thread = threading.Thread(target=self._write_loop, name=f"sink:{name}", daemon=True)
        self._thread.start()

    def send(self, envelope: Envelope) -> None:
        try:
            self._queue.put_nowait(envelope)
        except queue.Full:
            self.drops.add(QUEUE_FULL)

    async def close(self) -> None:
        await asyncio.to_thread(self._stop)

    def _stop(self) -> None:
        try:
            self._queue.put(_STOP, timeout=0.5)
        except queue.Full:
            log.error("sink %r: writer stuck; %d envelopes not written", self.name, self._queue.qsize())
            return
        self._thread.join(timeout=0.5)
        if not self._thread.is_alive():
            os.close(self._fd)

    def _line(self, envelope: object) -> str:
        """One strict JSON line (non-finite numbers as null, flagged); '' for an envelope that is not JSON (counted)."""
        try:
            return strict_dumps(envelope) + "\n"
        except (TypeError, ValueError) as exc:
            self.drops.add(BAD_ENVELOPE)
            log.error("sink %r: an envelope that is not JSON was dropped: %s", self.name, exc)
            return ""

    def _write_loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < 512:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(item is _STOP for item in batch)
            lines = [line for item in batch if item is not _STOP and (line := self._line(item))]
            try:
                self._append("".join(lines).encode())
                self.written += len(lines)
            except OSError as exc:
                self._write_failed(exc, len(lines))
            else:
                self._write_ok()
            if stop:
                return

    def _append(self, data: bytes) -> None:
        """Write all of `data` or, on an error (a full disk), cut the file back: never a partial line."""
        start = os.fstat(self._fd).st_size
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, start)
            raise

    def _write_failed(self, exc: OSError, n: int) -> None:
        """Count the lost envelopes; one ERROR line when writing starts failing, then a summary per SUMMARY_S."""
        self.drops.add(WRITE_ERROR, n)
        self._failed += n
        now = time.monotonic()
        if self._failing_since is None:
            self._failing_since = self._summary_at = now
            log.error("sink %r: cannot write %s: %s; envelopes are counted as %s until it can", self.name, self.path,
                      exc.strerror or exc, WRITE_ERROR)  # fmt: skip
        elif now - self._summary_at >= SUMMARY_S:
            self._summary_at = now
            log.warning("sink %r: still cannot write %s: %d envelopes lost so far", self.name, self.path, self._failed)

    def _write_ok(self) -> None:
        if self._failing_since is not None:
            log.warning("sink %r: writes to %s again (%d envelopes lost)", self.name, self.path, self._failed)
            self._failing_since, self._failed = None, 0


def _open_append(path: Path) -> int:
    """Open for appending; a FIFO without a reader or a device is refused at once (OSError), never waited on."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NONBLOCK, 0o644)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    os.set_blocking(fd, True)
    return fd
