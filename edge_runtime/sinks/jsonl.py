"""The `jsonl` sink: one envelope per line, written and flushed by a named writer thread."""

from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
from pathlib import Path

from cloud_sync.envelope import Envelope
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
            self._file.close()

    def _write_loop(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < 512:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            stop = any(item is _STOP for item in batch)
            lines = [json.dumps(item, separators=(",", ":")) + "\n" for item in batch if item is not _STOP]
            try:
                self._file.writelines(lines)
                self._file.flush()
                self.written += len(lines)
            except OSError as exc:
                self.drops.add("write_error", len(lines))
                log.error("sink %r: cannot write %s: %s", self.name, self.path, exc)
            if stop:
                return
