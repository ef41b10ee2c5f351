"""The outbox on a failing disk (a real 512 KiB tmpfs): full, then read-only. One line naming the file and the
cause, new entries refused and counted, nothing committed lost, writes resume by themselves."""

from __future__ import annotations

import errno
import logging
import os
import time
from pathlib import Path

import pytest

from cloud_sync import Entry, Key, Outbox
from cloud_sync._storage import RETRY_S
from tests.support.tmpfs import remount, tmpfs

TOPIC = "edge/dev1/results/porch"


def entries(start: int, n: int, size: int = 1000) -> list[Entry]:
    return [Entry(Key("dev1", "b", "porch", seq), TOPIC, b"x" * (size - len(TOPIC))) for seq in range(start, start + n)]


def stored_seqs(box: Outbox) -> set[int]:
    return {row[0] for row in box._sql("SELECT seq FROM outbox").fetchall()}


def errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "cloud_sync.outbox" and r.levelno >= logging.ERROR]


def wait_retry() -> None:
    time.sleep(RETRY_S + 0.1)


def test_a_full_disk_refuses_counts_keeps_and_resumes(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="cloud_sync.outbox")
    with tmpfs(tmp_path / "disk") as disk:
        filler = disk / "filler"
        filler.write_bytes(b"\0" * 200_000)
        path = disk / "outbox.db"
        box = Outbox(path, max_bytes=10**9)
        committed: set[int] = set()
        seq = 0
        while box.storage.ok and seq < 2000:
            committed.update(k.seq for k in box.add(entries(seq, 20)))
            seq += 20
        assert box.storage.reason == "disk_full", "the tmpfs never filled"
        assert box.drops.get("disk_full") == 20
        assert box.add(entries(seq, 20)) == []  # refused at once until the next retry, counted
        assert box.drops.get("disk_full") == 40
        lines = errors(caplog)
        assert len(lines) == 1, lines
        assert str(path) in lines[0]
        assert "disk full" in lines[0]
        assert stored_seqs(box) == committed

        sent = box.fetch(50)  # delivery goes on while the disk is full; a delete that fails is retried later
        ids = [m.id for m in sent]
        box.settle(ids, ids)
        assert not {m.id for m in box.fetch(10**6)} & set(ids), "a confirmed entry was offered again"
        box.settle([], [])

        filler.unlink()  # space returns
        wait_retry()
        more = box.add(entries(10_000, 20))
        assert [k.seq for k in more] == list(range(10_000, 10_020))
        assert box.storage.ok
        assert any("writes again" in r.getMessage() for r in caplog.records)
        delivered_before = len(ids)
        box.close()
        box = Outbox(path, max_bytes=10**9)  # nothing committed is lost, not even across a restart
        left = stored_seqs(box)
        assert len(left) + delivered_before == len(committed) + 20
        assert left >= {k.seq for k in more}
        box.close()


def test_a_read_only_outbox_refuses_counts_and_resumes(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="cloud_sync.outbox")
    with tmpfs(tmp_path / "disk") as disk:
        path = disk / "var" / "outbox.db"
        box = Outbox(path, max_bytes=10**9)
        first = {k.seq for k in box.add(entries(0, 30))}
        box.close()
        remount(disk, "ro")
        box = Outbox(path, max_bytes=10**9)  # no exception: the outbox degrades
        assert box.storage.reason == "outbox_unwritable"
        assert box.add(entries(100, 10)) == []
        assert box.drops.get("outbox_unwritable") == 10
        lines = errors(caplog)
        assert len(lines) == 1, lines
        assert str(path) in lines[0]
        assert "read-only file system" in lines[0]
        remount(disk, "rw")
        wait_retry()
        assert len(box.add(entries(200, 10))) == 10
        assert stored_seqs(box) == first | set(range(200, 210))
        box.close()


def test_a_directory_that_cannot_be_made_degrades_too(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with tmpfs(tmp_path / "disk") as disk:
        remount(disk, "ro")
        box = Outbox(disk / "sub" / "outbox.db", max_bytes=10**9)
        assert box.add(entries(0, 5)) == []
        assert box.fetch(10) == []
        assert box.drops.get("outbox_unwritable") == 5
        assert len(errors(caplog)) == 1
        box.close()


def fill(path: Path) -> None:
    """Write zeros to `path` until the file system is full."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT)
    error = 0
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError as exc:
        error = exc.errno or 0
    finally:
        os.close(fd)
    assert error == errno.ENOSPC


def test_deliveries_on_a_full_disk_are_not_sent_again_and_deleted_later(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "disk") as disk:
        box = Outbox(disk / "outbox.db", max_bytes=10**9)
        assert len(box.add(entries(0, 30))) == 30
        box._sql("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()  # any write now needs new space
        fill(disk / "filler")
        sent = box.fetch(10)
        ids = [m.id for m in sent]
        assert box.settle(ids, ids) == 0  # confirmed, but the disk refuses the delete
        again = box.fetch(100)
        assert len(again) == 20
        assert not {m.id for m in again} & set(ids), "a delivered entry was offered again"
        box.settle([m.id for m in again], [])
        (disk / "filler").unlink()
        assert len(box.add(entries(100, 5))) == 5  # the first write also deletes what was delivered meanwhile
        assert stored_seqs(box) == set(range(10, 30)) | set(range(100, 105))
        assert box.entries == 25
        box.close()
