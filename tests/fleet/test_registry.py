"""The fleet registry from what devices publish (status with birth and will, envelopes, stats, model status),
read back with `edge-cloud fleet status`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cloud_sync.fleet import assign, devices, table
from cloud_sync.ingest import classify, open_store
from tests.cloud.support import envelope
from tests.fleet.support import ROOT


def _stats(device: str, seq: int) -> bytes:
    uplink = {"outbox": {"entries": 17}, "drops": {"outbox_full": 2, "expired": 1}}
    return json.dumps(envelope(seq, stream="_stats", device=device, kind="stats", boot_id=f"b00t-{device}",
                               payload={"runtime": {}, "uplink": uplink})).encode()


def test_registry_follows_what_devices_publish(db: str) -> None:
    messages = [
        ("edge/cam1/status", b"online"),
        ("edge/cam1/results/porch", json.dumps(envelope(1, device="cam1", boot_id="b00t-cam1")).encode()),
        ("edge/cam1/stats", _stats("cam1", 1)),
        ("edge/cam1/models/status", b'{"name": "faces", "version": 3, "state": "active", "push_id": "p"}'),
        ("edge/cam2/status", b"online"),
        ("edge/cam2/status", b"offline"),  # its Last Will, after the birth
    ]
    store = open_store(db)
    try:
        store.write([classify("edge", topic, payload) for topic, payload in messages])
        assign(store, "porches", ["cam1"])
        fleet = {d.device: d for d in devices(store)}
        in_group = [d.device for d in devices(store, "porches")]
    finally:
        store.close()
    assert in_group == ["cam1"]
    cam1, cam2 = fleet["cam1"], fleet["cam2"]
    assert (cam1.online, cam1.boot_id, cam1.models, cam1.outbox_depth, cam1.uplink_drops) == (
        True, "b00t-cam1", {"faces": 3}, 17, 3)
    assert cam2.online is False
    assert cam2.last_seen is not None
    lines = table(list(fleet.values()))
    assert lines[0].split()[:3] == ["DEVICE", "GROUP", "STATE"]
    assert "faces:v3" in lines[1]
    assert "offline" in lines[2]

    out = subprocess.run([sys.executable, "-m", "cloud_sync", "fleet", "status", "--db", db, "--json",
                          "--group", "porches"], cwd=ROOT, capture_output=True, check=True, text=True).stdout
    assert [d["device"] for d in json.loads(out)] == ["cam1"]


def test_a_database_from_a_newer_tool_is_refused_in_one_line(tmp_path: object) -> None:
    path = str(tmp_path) + "/new.db"
    store = open_store(path)
    with store.transaction() as cur:
        cur.execute("UPDATE schema_version SET version = 99")
    store.close()
    done = subprocess.run([sys.executable, "-m", "cloud_sync", "fleet", "status", "--db", path], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"edge-cloud fleet: {path}: the database's schema version 99 is newer than this edge-cloud's (2)"]


def test_status_of_a_database_that_does_not_exist_is_one_line_and_creates_nothing(tmp_path: Path) -> None:
    path = str(tmp_path) + "/missing/fleet.db"
    done = subprocess.run([sys.executable, "-m", "cloud_sync", "fleet", "status", "--db", path], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"edge-cloud fleet: {path}: no such database (edge-cloud ingest --db {path} makes it)"]
    assert not (tmp_path / "missing").exists()
