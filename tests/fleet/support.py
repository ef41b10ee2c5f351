"""Helpers of the fleet tests: `edge-cloud ingest` workers as real processes, a QoS 1 publisher."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from cloud_sync.ingest import open_store
from tests.cloud.support import envelope

ROOT = Path(__file__).resolve().parents[2]


class Worker:
    """`edge-cloud ingest` in a subprocess; `stop()` returns the number of rows it reported storing."""

    def __init__(self, workdir: Path, port: int, db: str, client_id: str, *extra: str) -> None:
        self.stderr_path = workdir / f"{client_id}.stderr"
        self.args = [sys.executable, "-m", "cloud_sync", "ingest", "--mqtt", f"127.0.0.1:{port}", "--db", db,
                     "--client-id", client_id, *extra]
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30.0) -> Worker:
        self.stderr_path.unlink(missing_ok=True)
        self.proc = subprocess.Popen(self.args, cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=self.stderr_path.open("wb"), start_new_session=True)
        wait_for(lambda: "subscribed" in self.stderr(), timeout, f"worker never subscribed: {self.stderr()}")
        return self

    def stderr(self) -> str:
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGTERM)
        code = self.proc.wait(30)
        assert code == 0, f"exit {code}: {self.stderr()}"
        found = re.search(r"(\d+) rows stored", self.stderr())
        assert found, self.stderr()
        return int(found.group(1))


def wait_for(condition: object, timeout: float, message: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s: {message}")
        time.sleep(0.1)


def publish(port: int, messages: Iterable[tuple[str, bytes]], client_id: str = "test-publisher") -> int:
    """Publish (topic, payload) pairs with QoS 1 and wait until the broker acknowledged each."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    client.max_inflight_messages_set(200)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(30)
    finally:
        client.disconnect()
        client.loop_stop()
    return len(infos)


def results(devices: int, per_device: int, stream: str = "porch") -> list[tuple[str, bytes]]:
    """Result envelopes from `devices` devices, interleaved, as (topic, payload)."""
    return [(f"edge/dev{d}/results/{stream}",
             json.dumps(envelope(seq, stream=stream, device=f"dev{d}", ts_result=time.time())).encode())
            for seq in range(per_device) for d in range(devices)]


def count(db: str, sql: str) -> int:
    store = open_store(db)
    try:
        return int(store.query(sql)[0][0])
    finally:
        store.close()
