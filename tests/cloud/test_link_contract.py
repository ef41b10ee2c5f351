"""The device link's contract, one suite for its three implementations: MQTT (a real mosquitto), ZeroMQ (real
loopback sockets) and in-memory. Publish -> confirmed -> deleted from the outbox; subscribe -> handler called;
link drop -> state change -> everything sent after the reconnect.

The MQTT and ZeroMQ links reach their cloud end through a pausable TCP proxy; a drop is a blackhole (sockets kept
open, no byte moves), noticed by the link's own liveness check (MQTT keepalive, ZeroMQ heartbeats).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from cloud_sync import CloudConfig, Inbound, MemoryTransport, MqttTransport, Transport, Uplink, ZmqTransport
from tests.cloud.support import envelope
from tests.support.mosquitto import Mosquitto
from tests.support.mqtt_client import probe
from tests.support.proxy import TcpProxy
from tests.support.zmq_cloud import ZmqCloud

pytestmark = [pytest.mark.timeout(60)]
DEVICE = "dev1"
PUSH = f"edge/{DEVICE}/models/push"
KINDS = ["mqtt", "zmq", "memory"]


class Harness:
    """One device link (run by an `Uplink`, as in the runtime) and its cloud end."""

    def __init__(self, link: Transport, uplink: Uplink, received: Callable[[], list[bytes]]) -> None:
        self.link = link
        self.uplink = uplink
        self.received = received
        self.push: Callable[[str, bytes], Any] = lambda topic, payload: None
        self.cut: Callable[[], None] = lambda: None
        self.restore: Callable[[], None] = lambda: None

    def put(self, seqs: range) -> None:
        for seq in seqs:
            assert self.uplink.put(envelope(seq, stream="porch"))

    def seqs(self) -> set[int]:
        return {json.loads(p)["seq"] for p in self.received() if p.startswith(b"{")}


async def until(what: str, predicate: Callable[[], bool], timeout: float = 20.0) -> float:
    """Wait for `predicate`; returns the seconds it took."""
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout, f"timed out after {timeout} s waiting for {what}"
        await asyncio.sleep(0.02)
    return time.monotonic() - start


def _config(tmp: Path, **link: Any) -> CloudConfig:
    return CloudConfig.model_validate({**link, "outbox": {"path": str(tmp / "outbox.db"), "batch_size": 32}})


@contextlib.asynccontextmanager
async def running(harness: Harness) -> AsyncIterator[Harness]:
    async with harness.uplink:  # the outbox open, the committer started
        task = asyncio.create_task(harness.uplink.serve(), name="uplink")
        try:
            await until("the link up", lambda: harness.link.connected)
            yield harness
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


@contextlib.asynccontextmanager
async def link(kind: str, tmp: Path) -> AsyncIterator[Harness]:
    if kind == "memory":
        memory = MemoryTransport(DEVICE)
        harness = Harness(memory, Uplink(_config(tmp), DEVICE, memory), lambda: [m.payload for m in memory.delivered])
        harness.push = lambda topic, payload: memory.subscriptions.dispatch(Inbound(topic, payload))
        harness.cut, harness.restore = memory.cut, memory.restore
        async with running(harness):
            yield harness
    elif kind == "mqtt":
        async with _mqtt(tmp) as harness:
            yield harness
    else:
        async with _zmq(tmp) as harness:
            yield harness


@contextlib.asynccontextmanager
async def _mqtt(tmp: Path) -> AsyncIterator[Harness]:
    broker = Mosquitto(tmp)
    broker.start()
    proxy = TcpProxy(broker.port).start()
    try:
        config = _config(tmp, mqtt={"host": "127.0.0.1", "port": proxy.port, "keepalive": 2,
                                    "backoff_initial": 0.1, "backoff_max": 0.5})  # fmt: skip
        assert config.mqtt is not None
        transport = MqttTransport(config.mqtt, DEVICE)
        async with probe(broker.port, f"edge/{DEVICE}/results/#") as cloud:
            uplink = Uplink(config, DEVICE, transport)
            harness = Harness(transport, uplink, lambda: [m.payload for m in cloud.received()])
            harness.push = cloud.publish
            harness.cut, harness.restore = proxy.blackhole, proxy.restore
            async with running(harness):
                yield harness
    finally:
        proxy.stop()
        broker.stop()


@contextlib.asynccontextmanager
async def _zmq(tmp: Path) -> AsyncIterator[Harness]:
    cloud = ZmqCloud()
    proxy = TcpProxy(cloud.port).start()
    router = asyncio.create_task(cloud.run(), name="zmq-cloud")
    try:
        config = _config(tmp, zmq={"endpoint": f"tcp://127.0.0.1:{proxy.port}", "ack_timeout": 1.0,
                                   "backoff_max": 0.5})  # fmt: skip
        assert config.zmq is not None
        transport = ZmqTransport(config.zmq, DEVICE)
        harness = Harness(transport, Uplink(config, DEVICE, transport), lambda: [p for _, p in cloud.received])
        harness.push = cloud.push
        harness.cut, harness.restore = proxy.blackhole, proxy.restore
        async with running(harness):
            yield harness
    finally:
        router.cancel()
        await asyncio.gather(router, return_exceptions=True)
        proxy.stop()


def _outbox_empty(harness: Harness) -> bool:
    outbox = harness.uplink.outbox
    return outbox is not None and outbox.entries == 0


@pytest.mark.parametrize("kind", KINDS)
def test_publish_is_confirmed_then_deleted_from_the_outbox(kind: str, tmp_path: Path) -> None:
    async def scenario() -> tuple[set[int], int]:
        async with link(kind, tmp_path) as harness:
            harness.put(range(200))
            await until("all delivered", lambda: harness.uplink.delivered == 200)
            await until("the outbox emptied", lambda: _outbox_empty(harness))
            await until("the cloud got all", lambda: len(harness.seqs()) == 200)
            return harness.seqs(), harness.uplink.delivered

    seqs, delivered = asyncio.run(scenario())
    assert seqs == set(range(200))
    assert delivered == 200


@pytest.mark.parametrize("kind", KINDS)
def test_a_subscribed_handler_is_called(kind: str, tmp_path: Path) -> None:
    async def scenario() -> list[Inbound]:
        got: list[Inbound] = []
        async with link(kind, tmp_path) as harness:
            harness.link.subscribe("edge/+/models/#", got.append)  # subscribed while connected
            await asyncio.sleep(0.2)  # (MQTT: the SUBACK)
            harness.put(range(1))  # ZeroMQ: the cloud ROUTER learns who the device is
            await until("one delivered", lambda: harness.uplink.delivered == 1)
            result = harness.push(PUSH, b"chunk")
            if asyncio.iscoroutine(result):
                await result
            await until("the handler called", lambda: bool(got), timeout=10)
            return got

    got = asyncio.run(scenario())
    assert got == [Inbound(PUSH, b"chunk")]


@pytest.mark.parametrize("kind", KINDS)
def test_a_dropped_link_changes_state_and_everything_is_sent_after_the_reconnect(kind: str, tmp_path: Path) -> None:
    async def scenario() -> tuple[set[int], float]:
        async with link(kind, tmp_path) as harness:
            harness.put(range(50))
            await until("the first delivered", lambda: harness.uplink.delivered == 50)
            harness.cut()
            noticed = await until("the drop noticed", lambda: not harness.link.connected)
            harness.put(range(50, 150))  # into the outbox while the link is down
            await asyncio.sleep(0.5)
            harness.restore()
            await until("the link back", lambda: harness.link.connected)
            await until("all delivered", lambda: len(harness.seqs()) == 150, timeout=30)
            await until("the outbox emptied", lambda: _outbox_empty(harness))
            return harness.seqs(), noticed

    seqs, noticed = asyncio.run(scenario())
    assert seqs == set(range(150))
    assert noticed < 10.0
