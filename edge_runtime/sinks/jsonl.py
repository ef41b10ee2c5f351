"""The `jsonl` sink: one envelope per line, written and flushed by a named writer thread."""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from pathlib import Path
from typing import Any

from cloud_sync.counters import BAD_ENVELOPE
from cloud_sync.strict_json import dumps as strict_dumps
from edge_runtime.drops import QUEUE_FULL, DropCounter
from edge_runtime.sinks._base import Sink

log = logging.getLogger(__name__)
_STOP = object()


class JsonlSink(Sink):
    """Appends envelopes to a file. Each batch the writer takes is written whole, then flushed, so a reader
    (or a crash) only ever sees complete lines."""

    def __init__(self, name: str, path: Path, max_queue: int = 10_000) -> None:
        super().__init__(name)
        self.path = path
        self.drops = DropCounter()
        self.written = 0
        self._queue: queue.Queue[object] = queue.Queue(maxsize=max_queue)
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a", encoding="utf-8")
        self._thread = threading.Thread(target=self._write_loop, name=f"sink:{name}", daemon=True)
        self._thread.start()

    def send(self, envelope: dict[str, Any]) -> None:
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
            self._file.close()

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
                self._file.writelines(lines)
                self._file.flush()
                self.written += len(lines)
            except OSError as exc:
                self.drops.add("write_error", len(lines))
                log.error("sink %r: cannot write %s: %s", self.name, self.path, exc)
            if stop:
                return
