"""The JSONL sink on a full disk (a real 512 KiB tmpfs): lost envelopes counted `write_error`, one ERROR line,
never a partial line in the file, and writing resumes by itself when space returns. A FIFO is refused at once."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from pathlib import Path

import pytest

from cloud_sync.envelope import Envelope
from edge_runtime.sinks.jsonl import WRITE_ERROR, JsonlSink
from tests.support.tmpfs import tmpfs


def envelope(seq: int) -> Envelope:
    return {"device": "d", "stream": "s", "seq": seq, "boot_id": "b", "ts_capture": 1.0, "ts_result": 1.0,
            "kind": "reading", "payload": {"pad": "x" * 900}}  # fmt: skip


def settled(sink: JsonlSink, sent: int, timeout: float = 10.0) -> None:
    """Wait until the writer has written or counted all `sent` envelopes."""
    deadline = time.monotonic() + timeout
    while sink.written + sink.drops.get(WRITE_ERROR) < sent:
        assert time.monotonic() < deadline, "the writer fell behind"
        time.sleep(0.02)


def test_a_full_disk_counts_loses_no_line_whole_and_resumes(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with tmpfs(tmp_path / "disk") as disk:
        filler = disk / "filler"
        filler.write_bytes(b"\0" * 400_000)
        sink = JsonlSink("out", disk / "out.jsonl", max_queue=100_000)
        seq = 0
        while sink.drops.get(WRITE_ERROR) == 0 and seq < 2000:
            sink.send(envelope(seq))
            seq += 1
            settled(sink, seq)
        assert sink.drops.get(WRITE_ERROR) > 0, "the disk never filled"
        for _ in range(20):  # more failures: counted, not logged again
            sink.send(envelope(seq))
            seq += 1
        settled(sink, seq)
        filler.unlink()
        sink.send(envelope(seq))
        seq += 1
        settled(sink, seq)
        asyncio.run(sink.close())
        lines = (disk / "out.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]  # every line whole
    assert len(records) == sink.written
    assert records[-1]["seq"] == seq - 1  # written again once space returned
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, errors
    assert "No space left on device" in errors[0]
    assert any("writes to" in r.getMessage() and "again" in r.getMessage() for r in caplog.records)


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "fifo")
    with pytest.raises(OSError, match=r"No such device or address|not a regular file"):
        JsonlSink("out", tmp_path / "fifo")
