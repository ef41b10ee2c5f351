"""Pieces of the fleet benchmark: broker byte counters ($SYS), ingest workers as processes, a fleet run."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from cloud_sync.config import MqttConfig
from cloud_sync.fleet._agent import Agent
from cloud_sync.fleet.simulate import run_fleet
from cloud_sync.models.mqtt import MqttCloudLink


class BrokerBytes:
    """mosquitto's ``$SYS/broker/bytes/{received,sent}`` (published every `sys_interval` seconds)."""

    def __init__(self, port: int) -> None:
        self.values: dict[str, int] = {}
        self._client = paho.Client(CallbackAPIVersion.VERSION2, client_id="fleet-bench-sys")
        self._client.on_message = self._on_message
        self._client.connect("127.0.0.1", port)
        self._client.subscribe("$SYS/broker/bytes/+")
        self._client.loop_start()

    def _on_message(self, _c: paho.Client, _u: object, message: paho.MQTTMessage) -> None:
        self.values[message.topic.rsplit("/", 1)[-1]] = int(message.payload)

    def fresh(self, wait: float = 2.5) -> tuple[int, int]:
        """(received, sent) as of now: mosquitto publishes a counter only when it changed, so this waits for
        more than one $SYS interval and takes the last value of each."""
        time.sleep(wait)
        return self.values.get("received", 0), self.values.get("sent", 0)

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@contextlib.contextmanager
def ingest_workers(port: int, db: str, workdir: Path, count: int = 2) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`count` `edge-cloud ingest` processes sharing one subscription group; stopped by PID (SIGTERM)."""
    procs = []
    try:
        for index in range(count):
            log = workdir / f"ingest-{index}.log"
            procs.append(subprocess.Popen(
                [sys.executable, "-m", "cloud_sync", "ingest", "--mqtt", f"127.0.0.1:{port}", "--db", db,
                 "--client-id", f"fleet-bench-ingest-{index}", "--group", "fleet-bench"],
                stdout=subprocess.DEVNULL, stderr=log.open("wb")))  # fmt: skip
            deadline = time.monotonic() + 60
            while "subscribed" not in log.read_text():
                if time.monotonic() > deadline or procs[-1].poll() is not None:
                    raise RuntimeError(f"ingest worker did not start: {log.read_text()}")
                time.sleep(0.1)
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
            proc.wait(30)


@contextlib.asynccontextmanager
async def running(fleet: list[Agent], timeout: float = 300.0) -> AsyncIterator[None]:
    """The fleet running, every device's model link connected."""
    task = asyncio.create_task(run_fleet(fleet), name="fleet")
    try:
        started = time.monotonic()
        for agent in fleet:
            if not await agent.wait_connected(max(timeout - (time.monotonic() - started), 0.1)):
                raise RuntimeError(f"{agent.name} did not connect within {timeout:g} s")
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@contextlib.asynccontextmanager
async def cloud_link(port: int) -> AsyncIterator[MqttCloudLink]:
    link = MqttCloudLink(MqttConfig(host="127.0.0.1", port=port))
    task = asyncio.create_task(link.run(), name="bench-cloud-link")
    try:
        if not await link.wait_connected(30):
            raise RuntimeError(f"cloud link did not connect: {link.last_error}")
        yield link
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]
