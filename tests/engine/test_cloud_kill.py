"""`edge-runtime` killed with SIGKILL while the broker is down, then restarted: everything it had committed to
the outbox reaches `edge-cloud listen` once the broker is back."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.mosquitto import Mosquitto

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]


def device_config(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "device.yaml"
    path.write_text(
        f"""\
device: {{id: dev-kill}}
streams:
  temp:
    source: {{type: synthetic, kind: readings, fps: 200, fields: [celsius]}}
    sinks: [cloud]
cloud:
  mqtt: {{host: 127.0.0.1, port: {port}, backoff_initial: 0.2, backoff_max: 0.5}}
  outbox: {{path: outbox.db}}
status: {{display: log}}
http: {{enabled: false}}  # tests that do not test HTTP never bind its port
"""
    )
    return path


def committed_keys(db: Path) -> set[tuple[str, int]]:
    with sqlite3.connect(db) as conn:
        return {(boot, seq) for boot, seq in conn.execute("SELECT boot_id, seq FROM outbox WHERE stream = 'temp'")}


def test_sigkill_loses_nothing_that_was_committed(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path)  # not started yet: the link is down, results pile up in the outbox
    cfg = device_config(tmp_path, broker.port)
    runtime = [sys.executable, "-m", "edge_runtime", "--config", str(cfg)]
    first = subprocess.Popen(runtime, stderr=subprocess.DEVNULL)
    time.sleep(4.0)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    stored = committed_keys(tmp_path / "outbox.db")
    assert len(stored) > 200  # a real backlog, from one boot
    assert len({boot for boot, _ in stored}) == 1

    broker.start()
    received = tmp_path / "cloud.jsonl"
    listener = subprocess.Popen(
        [sys.executable, "-m", "cloud_sync", "listen", "--mqtt", f"127.0.0.1:{broker.port}", "--out", str(received)],
        stderr=subprocess.PIPE,
        text=True,
    )
    second = None
    try:
        assert listener.stderr is not None
        assert "subscribed" in listener.stderr.readline()
        second = subprocess.Popen([*runtime, "--duration", "6"], stderr=subprocess.PIPE, text=True)
        _, stderr = second.communicate(timeout=60)
        assert second.returncode == 0, stderr
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            got = {(e["boot_id"], e["seq"]) for e in map(json.loads, received.read_text().splitlines())}
            if stored <= got:
                break
            time.sleep(0.2)
    finally:
        listener.send_signal(signal.SIGTERM)
        listener.wait(timeout=10)
        if second is not None and second.poll() is None:
            second.kill()
        broker.stop()
    lines = [json.loads(line) for line in received.read_text().splitlines()]
    got = {(e["boot_id"], e["seq"]) for e in lines}
    assert stored <= got, f"{len(stored - got)} committed results never arrived"
    assert len(got) == len(lines)  # the listener wrote each key once
    boots = {e["boot_id"] for e in lines}
    assert len(boots) == 2  # the first boot's backlog and the second boot's own results
