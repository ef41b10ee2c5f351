"""One model transfer on the device: which chunks it has, which it asked for, and the staging file they fill.

The device pulls: it asks for at most `window` chunks at a time and asks for more as they arrive, so the cloud
only ever sends chunks the device lacks, and after a link drop the transfer resumes where it stopped.

Disk work (creating, sizing, writing, closing and deleting the staging file) never runs on the event loop: it
goes, in order, to the transfer's own `SerialWorker` thread. The chunk accounting (`have`, `asked`) is updated at
once, so what to ask for next never waits for the disk; `check()` waits for every write before hashing. Pending
writes hold at most the file's size in memory (each index is written once).
"""

from __future__ import annotations

import functools
import hashlib
import os
from pathlib import Path

from cloud_sync.models._threads import SerialWorker
from cloud_sync.models.manifest import Manifest, ManifestError

TFLITE_MAGIC = b"TFL3"  # bytes 4..8 of every TFLite flatbuffer


class Transfer:
    def __init__(self, manifest: Manifest, part: Path, window: int, now: float) -> None:
        self.manifest = manifest
        self.part = part
        self.window = window
        self.have: set[int] = set()
        self.asked: set[int] = set()  # requested and not yet received
        self.duplicates = 0
        self.reasks = 0  # re-asks in a row with nothing arriving in between (each one waits twice as long)
        self.last_heard = now  # when a chunk last arrived, or chunks were last asked for
        self.last_progress = now
        self._fd: int | None = None  # used in the writer thread only
        self._closed = False
        self._writer = SerialWorker(f"models:write:{manifest.name}")
        self._writer.submit(self._open)

    @property
    def push_id(self) -> str:
        return self.manifest.push_id

    @property
    def complete(self) -> bool:
        return len(self.have) == self.manifest.chunks

    def add(self, index: int, data: bytes, now: float) -> bool:
        """Write one chunk; False for a duplicate. ManifestError when it cannot belong to the file."""
        total = self.manifest.chunks
        if not 0 <= index < total:
            raise ManifestError(f"chunk {index} is outside the file ({total} chunks)")
        expected = self.manifest.chunk_length(index)
        if len(data) != expected:
            raise ManifestError(f"truncated transfer: chunk {index} has {len(data)} bytes, expected {expected}")
        self._raise_write_error()
        self.last_heard = now
        if index in self.have:
            self.duplicates += 1
            return False
        self._writer.submit(functools.partial(self._write, data, index * self.manifest.chunk_size))
        self.have.add(index)
        self.asked.discard(index)
        self.reasks = 0
        self.last_progress = now
        return True

    def next_request(self, *, again: bool = False) -> list[int]:
        """Indexes to ask for now: more when half the window has arrived; with `again`, re-ask the outstanding."""
        if not again and len(self.asked) > self.window // 2:
            return []
        request = sorted(self.asked) if again else []
        self.reasks += again
        for index in range(self.manifest.chunks):
            if len(self.asked) >= self.window:
                break
            if index not in self.have and index not in self.asked:
                self.asked.add(index)
                request.append(index)
        return request

    def backoff(self, base: float) -> float:
        """Seconds of silence before asking again: `base`, doubled per re-ask that brought nothing (up to 16x)."""
        return base * (1 << min(self.reasks, 4))

    def close(self) -> None:
        """Close the staging file once the writes before it are done (never blocks)."""
        if not self._closed:
            self._closed = True
            self._writer.submit(self._close)

    def discard(self) -> None:
        """Close and delete the staging file (never blocks)."""
        self.close()
        self._writer.submit(functools.partial(self.part.unlink, missing_ok=True))

    def check(self) -> None:
        """Blocking: wait for every write, then `check_assembled`; ManifestError with the reason."""
        self._writer.wait()
        self._raise_write_error()
        check_assembled(self.manifest, self.part)

    def _raise_write_error(self) -> None:
        if self._writer.error is not None:
            raise ManifestError(f"cannot write the staging file: {self._writer.error}")

    def _open(self) -> None:
        self.part.parent.mkdir(parents=True, exist_ok=True)
        self._fd = os.open(self.part, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o600)
        os.ftruncate(self._fd, self.manifest.size)

    def _write(self, data: bytes, offset: int) -> None:
        if self._fd is None:
            raise OSError("the staging file is not open")
        view = memoryview(data)
        while view:
            written = os.pwrite(self._fd, view, offset)
            view, offset = view[written:], offset + written

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def check_assembled(manifest: Manifest, part: Path) -> None:
    """Blocking (hashes the file): the whole-file SHA-256 and the TFLite magic; ManifestError with the reason."""
    digest = hashlib.sha256()
    with part.open("rb") as handle:
        head = handle.read(8)
        digest.update(head)
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != manifest.sha256:
        raise ManifestError(f"sha256 mismatch: manifest {manifest.sha256[:12]}..., file {digest.hexdigest()[:12]}...")
    if head[4:8] != TFLITE_MAGIC:
        raise ManifestError("not a TFLite file (no TFL3 identifier)")
