"""`edge-cloud fleet simulate` split over processes (as the fleet bench runs it) into a real ingest worker: every
result a simulator reports sent is stored once, and the registry knows every device."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from cloud_sync.fleet import devices
from cloud_sync.ingest import open_store
from tests.fleet.support import ROOT, Worker
from tests.support.mosquitto import Mosquitto

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]


def test_simulators_in_two_processes_deliver_every_result_they_sent(mosquitto: Mosquitto, tmp_path: Path) -> None:
    db = str(tmp_path / "fleet.db")
    worker = Worker(tmp_path, mosquitto.port, db, "ingest-1").start()
    try:
        procs = [subprocess.Popen(
            [sys.executable, "-m", "cloud_sync", "fleet", "simulate", "--devices", "3", "--mqtt",
             f"127.0.0.1:{mosquitto.port}", "--rate", "5", "--duration", "2", "--drain", "30",
             "--dir", str(tmp_path / f"sim{i}"), "--name-prefix", f"p{i}"],
            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) for i in range(2)]  # fmt: skip
        reports = [proc.communicate(timeout=90)[1] for proc in procs]
        assert [proc.returncode for proc in procs] == [0, 0], reports
        counts = [re.search(r"(\d+) results sent, (\d+) delivered", report) for report in reports]
        assert all(counts), reports
        sent = sum(int(found.group(1)) for found in counts if found)
        delivered = sum(int(found.group(2)) for found in counts if found)
    finally:
        stored = worker.stop()
    store = open_store(db)
    try:
        rows = int(store.query("SELECT count(*) FROM results")[0][0])
        distinct = int(store.query("SELECT count(*) FROM (SELECT DISTINCT device, boot_id, stream, seq "
                                   "FROM results) AS k")[0][0])
        names = sorted(d.device for d in devices(store))
    finally:
        store.close()
    assert sent >= 2 * 3 * 5  # 6 devices x 5/s x 2 s, give or take the start
    assert delivered == sent
    assert rows == distinct == sent == stored
    assert names == [f"p{i}-{n:04d}" for i in range(2) for n in range(3)]
