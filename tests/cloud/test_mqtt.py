"""MQTT end to end: real mosquitto, the real `edge-cloud listen` subprocess, broker and device kills."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cloud_sync import CloudConfig, MqttConfig, MqttTransport, Uplink
from cloud_sync.inbound import InboundQueue
from tests.cloud.runner import UplinkThread
from tests.cloud.support import ROOT, Listener, seqs_by_stream
from tests.support.mosquitto import Mosquitto
from tests.support.mqtt_client import probe

pytestmark = pytest.mark.broker


def _config(port: int, outbox: Path, **outbox_extra: object) -> CloudConfig:
    return CloudConfig.model_validate({
        "mqtt": {"host": "127.0.0.1", "port": port, "backoff_initial": 0.1, "backoff_max": 1.0},
        "outbox": {"path": str(outbox), **outbox_extra},
    })


def _assert_complete_in_order(received: list[dict[str, object]], expected: dict[tuple[str, str], int]) -> None:
    by_stream = seqs_by_stream(received)
    for key, count in expected.items():
        seqs = by_stream.get(key, [])
        assert seqs == sorted(seqs), f"{key}: arrived out of order"
        assert seqs == list(range(count)), f"{key}: missing {sorted(set(range(count)) - set(seqs))[:10]}..."


def test_broker_killed_for_10s_loses_nothing(tmp_path: Path) -> None:
    # Persistence with a 1 s autosave keeps the listener's persistent session (its subscriptions) across a
    # SIGKILL; while the listener is connected, a message is written to it before the device gets its PUBACK.
    broker = Mosquitto(tmp_path, persistence=True, extra_conf="autosave_interval 1\n")
    broker.start()
    listener = Listener(tmp_path, "--mqtt", f"127.0.0.1:{broker.port}").start()
    time.sleep(1.5)  # let an autosave record the listener's session
    device = UplinkThread(_config(broker.port, tmp_path / "outbox.db"), rate=200.0).start()
    try:
        time.sleep(2.0)
        broker.stop(signal.SIGKILL)
        time.sleep(10.0)
        backlog = device.stats()["outbox"]["entries"]
        broker.start()
        time.sleep(2.0)
        produced = device.finish()
        received = listener.wait_count(produced, timeout=20)
    finally:
        device.stop()
        report = listener.stop()
        broker.stop()
    assert backlog >= 1500, "the outage should have left a backlog in the outbox"
    assert device.stats()["drops"] == {}
    _assert_complete_in_order(received, {("boot-a", "porch"): produced // 2, ("boot-a", "yard"): produced // 2})
    assert report["totals"]["received"] == produced
    assert report["totals"]["gaps"] == 0
    assert report["totals"]["reorderings"] == 0


def _producer(port: int, outbox: Path, boot: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.cloud.producer", "--port", str(port), "--outbox", str(outbox),
             "--boot", boot, "--rate", "200"],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )


def _committed(log: Path) -> set[tuple[str, str, int]]:
    keys = set()
    for line in log.read_text().splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[0] == "C":
            keys.add((parts[1], parts[2], int(parts[3])))
    return keys


def _wait_committed(log: Path, n: int, timeout: float = 15.0) -> set[tuple[str, str, int]]:
    deadline = time.monotonic() + timeout
    while len(keys := _committed(log)) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    return keys


def test_device_sigkill_then_restart_delivers_every_committed_result(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path, persistence=True)
    broker.start()
    listener = Listener(tmp_path, "--mqtt", f"127.0.0.1:{broker.port}").start()
    outbox, log1, log2 = tmp_path / "outbox.db", tmp_path / "p1.log", tmp_path / "p2.log"
    first = _producer(broker.port, outbox, "boot-1", log1)
    second = None
    try:
        _wait_committed(log1, 200)
        broker.stop()  # graceful: the listener's session and queue are saved; the device builds a backlog
        time.sleep(1.0)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=5)
        committed = _committed(log1)
        broker.start()
        second = _producer(broker.port, outbox, "boot-2", log2)
        _wait_committed(log2, 200)
        received = listener.wait_count(len(committed) + 200, timeout=20)
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=10)
        report = listener.stop()
        broker.stop()
    got = {(e["boot_id"], e["stream"], e["seq"]) for e in received}
    missing = committed - got
    assert len(committed) >= 300
    assert not missing, f"{len(missing)} committed results never arrived, e.g. {sorted(missing)[:5]}"
    assert len(received) == len(got), "the listener's output holds a duplicate"
    assert report["totals"]["received"] == len(listener.received()), "the report counts what the output holds"


def test_lwt_says_offline_when_the_device_is_killed(mosquitto: Mosquitto, tmp_path: Path) -> None:
    log = tmp_path / "p.log"
    proc = _producer(mosquitto.port, tmp_path / "outbox.db", "boot-1", log)
    try:
        _wait_committed(log, 20)
        assert asyncio.run(_retained_status(mosquitto.port)) == "online"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=5)
    assert asyncio.run(_retained_status(mosquitto.port)) == "offline"


async def _retained_status(port: int) -> str:
    async with probe(port, "edge/dev1/status") as client:
        return (await client.get()).payload.decode()


def test_inbound_messages_reach_the_device(mosquitto: Mosquitto) -> None:
    async def scenario() -> bytes:
        transport = MqttTransport(MqttConfig(host="127.0.0.1", port=mosquitto.port), "dev1")
        inbound = InboundQueue(8)
        transport.subscribe("edge/dev1/models/push", inbound.put)
        runner = asyncio.create_task(transport.run())
        try:
            await asyncio.wait_for(transport.wait_connected(), 10)
            async with probe(mosquitto.port) as cloud:
                await cloud.publish("edge/dev1/models/push", b'{"manifest": 1}')
            message = await asyncio.wait_for(inbound.get(), 5)
            assert message.topic == "edge/dev1/models/push"
            assert await transport.send("models/status", b'{"state": "received"}')
            return message.payload
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)

    assert asyncio.run(scenario()) == b'{"manifest": 1}'


def test_the_link_takes_only_what_it_subscribed_to(mosquitto: Mosquitto, tmp_path: Path) -> None:
    """The uplink subscribes to nothing by itself: with no model updates, no push reaches (or is dropped by) it."""

    async def scenario() -> dict[str, object]:
        uplink = Uplink(_config(mosquitto.port, tmp_path / "o.db"), "dev1")  # what the cloud sink builds
        runner = asyncio.create_task(uplink.run())
        try:
            await _until_connected(uplink)
            async with probe(mosquitto.port, "edge/dev1/models/push") as cloud:
                for i in range(100):
                    await cloud.publish("edge/dev1/models/push", b"chunk %d" % i)
                await cloud.take(100)  # the broker has routed all of them
            await asyncio.sleep(0.5)
            link = uplink.stats()["link"]
            assert isinstance(link, dict)
            return link
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)

    link = asyncio.run(scenario())
    assert link["drops"] == {}, "the link took (and dropped as unrouted) a message it never subscribed to"


async def _until_connected(uplink: Uplink, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not uplink.transport.stats().get("connected"):
        assert time.monotonic() < deadline, "never connected"
        await asyncio.sleep(0.02)
