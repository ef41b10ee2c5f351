"""`edge-cloud ingest` against a real mosquitto into real SQLite and PostgreSQL: shared subscriptions split the
traffic, every result is stored exactly once, a worker killed mid-stream loses nothing, bad messages are
rejected with their reason while ingest goes on."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from cloud_sync.ingest import classify, open_store
from cloud_sync.ingest._rows import Keyed
from tests.fleet.support import Worker, count, publish, results, wait_for
from tests.support.mosquitto import Mosquitto
from tests.support.postgres import Postgres

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]
ROWS = "SELECT count(*) FROM results"
DISTINCT = "SELECT count(*) FROM (SELECT DISTINCT device, boot_id, stream, seq FROM results) AS k"


def test_two_workers_split_the_traffic_and_store_each_result_once(mosquitto: Mosquitto, tmp_path: Path,
                                                                  db: str) -> None:
    workers = [Worker(tmp_path, mosquitto.port, db, f"ingest-{n}").start() for n in range(2)]
    sent = results(devices=20, per_device=30)
    publish(mosquitto.port, sent)
    publish(mosquitto.port, sent[:50], client_id="resender")  # at-least-once: some arrive twice
    wait_for(lambda: count(db, ROWS) >= len(sent), 60, "not every result stored")
    stored = [w.stop() for w in workers]
    assert count(db, ROWS) == count(db, DISTINCT) == len(sent)
    assert all(n > 0 for n in stored), stored  # each worker took part of the traffic
    assert count(db, "SELECT count(*) FROM devices") == 20


def test_a_worker_killed_mid_stream_loses_nothing_and_duplicates_nothing(mosquitto: Mosquitto, tmp_path: Path,
                                                                         db: str) -> None:
    first = Worker(tmp_path, mosquitto.port, db, "ingest-a").start()
    second = Worker(tmp_path, mosquitto.port, db, "ingest-b").start()
    sent = results(devices=10, per_device=300)
    publisher = threading.Thread(target=publish, args=(mosquitto.port, sent))
    publisher.start()
    wait_for(lambda: count(db, ROWS) > 200, 60, "nothing stored")
    first.kill()  # SIGKILL between receipt and commit of whatever it held
    publisher.join(60)
    first.start()  # same client id: the broker hands back its session, unacknowledged messages included
    wait_for(lambda: count(db, ROWS) >= len(sent), 60, f"stored {count(db, ROWS)} of {len(sent)}")
    first.stop()
    second.stop()
    assert count(db, ROWS) == count(db, DISTINCT) == len(sent)


def test_bad_messages_end_in_rejected_and_ingest_goes_on(mosquitto: Mosquitto, tmp_path: Path, db: str) -> None:
    worker = Worker(tmp_path, mosquitto.port, db, "ingest-bad", "--max-bytes", "2000").start()
    good = results(devices=1, per_device=3)
    bad = [
        ("edge/dev0/results/porch", b"not json"),
        ("edge/dev0/results/porch", b'{"device": "dev0", "stream": "porch"}'),  # no seq, no boot_id
        ("edge/dev0/results/porch", b"[" * 1500 + b"]" * 1500),
        ("edge/dev0/results/porch", b'{"x": "' + b"a" * 5000 + b'"}'),
        ("edge/dev0/results/porch", b'{"device": "dev0", "stream": "porch", "seq": 1, "boot_id": "b", "x": NaN}'),
        ("edge/devX/results/porch", good[0][1]),  # the envelope says dev0
        ("edge/dev0/results/porch", json.dumps({"device": "dev0", "stream": "porch", "seq": 9, "boot_id": "b",
                                                "x": "\u0000"}).encode()),
        ("edge/dev0/status", b"maybe"),
        ("edge/dev0/results/porch", b'{"device": "dev0", "stream": "\\ud800", "seq": 1, "boot_id": "b"}'),
    ]
    publish(mosquitto.port, [good[0], *bad, *good[1:]])
    wait_for(lambda: count(db, "SELECT count(*) FROM rejected") >= len(bad), 30, "not every bad message rejected")
    wait_for(lambda: count(db, ROWS) == len(good), 30, "ingest did not go on")
    assert worker.stop() == len(good)
    reasons = _reasons(db)
    for expected in ("not JSON", "'seq'", "over the 2000-byte limit", "NaN", "differs from the topic", "NUL",
                     "neither 'online' nor 'offline'", "lone UTF-16 surrogate"):
        assert any(expected in r for r in reasons), (expected, reasons)


def _reasons(db: str) -> list[str]:
    store = open_store(db)
    try:
        return [str(r[0]) for r in store.query("SELECT reason FROM rejected")]
    finally:
        store.close()


def test_a_row_the_database_refuses_goes_to_rejected_and_the_rest_of_the_batch_is_stored(postgres: Postgres) -> None:
    db = postgres.database("refusals")
    good = [classify("edge", topic, payload) for topic, payload in results(devices=1, per_device=3)]
    first = good[0]
    assert isinstance(first, Keyed)
    refused = replace(first, seq=99, payload='{"not": "JSONB" ')  # past our checks, refused by PostgreSQL
    store = open_store(db)
    try:
        written = store.write([*good, refused])
        rows = store.query("SELECT count(*) FROM results")[0][0]
        reasons = [r[0] for r in store.query("SELECT reason FROM rejected")]
    finally:
        store.close()
    assert (written.inserted, written.rejected, rows) == (3, 1, 3)
    assert len(reasons) == 1
    assert reasons[0].startswith("database refused it: invalid input syntax for type json")
