"""A runtime whose outbox disk fills up or is read-only (a real 512 KiB tmpfs) while results flow to a real mosquitto:
one line naming the file and the cause, refused results counted, the stream and the local JSONL sink keep
running, delivery resumes by itself when space returns, and nothing committed is lost."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from edge_runtime.config import load_config
from edge_runtime.engine import build_runtime
from edge_runtime.sinks.cloud import CloudSink
from tests.cloud.support import Listener
from tests.support.mosquitto import Mosquitto
from tests.support.tmpfs import remount, tmpfs

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "models" / "digits_uint8.tflite"

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]


def write_config(tmp_path: Path, port: int, outbox: Path) -> Path:
    path = tmp_path / "device.yaml"
    path.write_text(
        f"""\
device: {{id: dev-01}}
accelerator: {{threads: 1}}
models:
  digits: {{path: {DIGITS}, decoder: classification}}
streams:
  digits:
    source: {{type: synthetic, fps: 40, width: 32, height: 32}}
    pipeline: [{{type: infer, model: digits}}]
    sinks: [out, cloud]
sinks:
  out: {{type: jsonl, path: out.jsonl}}
cloud:
  mqtt: {{host: 127.0.0.1, port: {port}, backoff_initial: 0.2, backoff_max: 1}}
  outbox: {{path: {outbox}, batch_size: 16}}
status: {{display: off}}
http: {{enabled: false}}  # tests that do not test HTTP never bind its port
"""
    )
    return path


def local_seqs(path: Path) -> list[int]:
    if not path.exists():
        return []
    return [json.loads(line)["seq"] for line in path.read_text().splitlines() if line.strip()]


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.1)


FAULTS = {"full": ("disk_full", "disk full"), "read-only": ("outbox_unwritable", "read-only file system")}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_a_failing_outbox_disk_degrades_the_cloud_sink_only_and_recovers(
    tmp_path: Path, mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    reason, cause = FAULTS[fault]
    caplog.set_level(logging.INFO)
    listener = Listener(tmp_path, "--mqtt", f"127.0.0.1:{mosquitto.port}").start()
    with tmpfs(tmp_path / "disk") as disk:
        filler = disk / "filler"
        filler.write_bytes(b"\0" * 440_000 if fault == "full" else b"")  # about 80 KiB left: full within seconds
        if fault == "read-only":
            remount(disk, "ro")
        outbox = disk / "outbox.db"
        config = load_config(write_config(tmp_path, mosquitto.port, outbox))
        runtime, _ = build_runtime(config, tmp_path, display="off")
        cloud = next(s for s in runtime.sinks if isinstance(s, CloudSink))
        drops = cloud.uplink.drops
        out = tmp_path / "out.jsonl"

        async def scenario() -> None:
            run = asyncio.create_task(runtime.run())
            await until(lambda: drops.get(reason) > 0, 60, f"the outbox to refuse ({fault})")
            seen = len(local_seqs(out))
            await until(lambda: len(local_seqs(out)) > seen + 40, 30, "the local sink to keep writing")
            assert not run.done(), "the runtime stopped on a full disk"
            if fault == "full":
                filler.unlink()  # space returns
            else:
                remount(disk, "rw")
            delivered = cloud.uplink.delivered
            refused = drops.get(reason)
            await until(lambda: cloud.uplink.delivered > delivered + 80, 30, "delivery to resume")
            assert drops.get(reason) - refused < 80, "results still refused after the disk recovered"
            runtime.stop()
            await run

        asyncio.run(scenario())
        received = {e["seq"] for e in listener.wait_count(1, 5) if e["stream"] == "digits"}
        with sqlite3.connect(outbox) as db:
            left = {row[0] for row in db.execute("SELECT seq FROM outbox WHERE stream = 'digits'")}
    listener.stop()

    produced = local_seqs(out)
    refused = sum(drops.snapshot().values())
    print(f"produced {len(produced)}, delivered {len(received)}, left in outbox {len(left)}, refused {refused}")
    assert runtime.failed == []
    assert drops.snapshot().keys() == {reason}
    # every result the stream made is delivered, still stored, or counted as refused: none lost silently
    assert received | left <= set(produced)
    assert len(received | left) + refused == len(produced)
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(lines) == 1, lines
    assert f"outbox {outbox}: {cause}" in lines[0]
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"
