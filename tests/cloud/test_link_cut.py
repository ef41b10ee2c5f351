"""A blackholed link (a pausable TCP proxy between the uplink and a real mosquitto holds every byte both ways,
sockets kept open) while results flow at QoS 1: the cut is noticed within 1.5 x keepalive, nothing committed is
lost, and each stream's results arrive in order (duplicates aside: delivery is at-least-once)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cloud_sync import CloudConfig, Inbound, MqttTransport, Uplink
from tests.cloud.support import envelope
from tests.support.mosquitto import Mosquitto
from tests.support.mqtt_client import probe
from tests.support.proxy import TcpProxy

pytestmark = [pytest.mark.broker, pytest.mark.timeout(90)]
KEEPALIVE = 2
RATE = 200.0  # results per second, over two streams
POLL_SLACK_S = 0.5  # the test's polling and a loaded machine's scheduling, on top of the bound


async def _produce(uplink: Uplink, stop: asyncio.Event, produced: list[tuple[str, int]]) -> None:
    seq = 0
    while not stop.is_set():
        for stream, priority in (("porch", 2), ("yard", 1)):
            assert uplink.put(envelope(seq, stream=stream), priority=priority)
            produced.append((stream, seq))
        seq += 1
        await asyncio.sleep(2 / RATE)


async def _until(what: str, predicate: Callable[[], bool], timeout: float) -> float:
    start = time.monotonic()
    while not predicate():
        assert time.monotonic() - start < timeout, f"timed out after {timeout} s waiting for {what}"
        await asyncio.sleep(0.01)
    return time.monotonic() - start


def test_blackholed_link_is_noticed_in_time_and_resends_in_order(tmp_path: Path, mosquitto: Mosquitto) -> None:
    proxy = TcpProxy(mosquitto.port).start()
    config = CloudConfig.model_validate({
        "mqtt": {"host": "127.0.0.1", "port": proxy.port, "keepalive": KEEPALIVE, "backoff_initial": 0.1,
                 "backoff_max": 0.5},
        "outbox": {"path": str(tmp_path / "outbox.db"), "batch_size": 256},
    })  # fmt: skip
    mqtt = config.mqtt
    assert mqtt is not None

    async def scenario() -> tuple[float, list[tuple[str, int]], list[tuple[str, int]]]:
        transport = MqttTransport(mqtt, "dev1", max_inflight=64)
        uplink = Uplink(config, "dev1", transport)
        produced: list[tuple[str, int]] = []
        stop = asyncio.Event()
        async with probe(mosquitto.port, "edge/dev1/results/#") as cloud:
            link = asyncio.create_task(uplink.run(), name="uplink")
            producer = asyncio.create_task(_produce(uplink, stop, produced), name="producer")
            try:
                await _until("connected", lambda: transport.connected, 10)
                await asyncio.sleep(2.0)
                proxy.blackhole()
                noticed = await _until("the cut noticed", lambda: not transport.connected, 3 * KEEPALIVE)
                await asyncio.sleep(1.5)  # a backlog builds in the outbox
                proxy.restore()
                await _until("reconnected", lambda: transport.connected, 20)
                await asyncio.sleep(1.0)
                stop.set()
                await producer
                await _until("everything delivered", lambda: _delivered(cloud.received()) >= set(produced), 30)
            finally:
                stop.set()
                link.cancel()
                await asyncio.gather(link, producer, return_exceptions=True)
            return noticed, produced, [_key(m.payload) for m in cloud.received()]

    try:
        noticed, produced, arrivals = asyncio.run(scenario())
    finally:
        proxy.stop()
    print(f"cut noticed after {noticed:.2f} s (keepalive {KEEPALIVE} s); {len(produced)} produced, "
          f"{len(arrivals)} arrived ({len(arrivals) - len(set(arrivals))} duplicates)")
    assert noticed <= 1.5 * KEEPALIVE + POLL_SLACK_S
    assert set(arrivals) >= set(produced), "lost results"
    for stream in ("porch", "yard"):
        firsts = _first_arrivals([seq for s, seq in arrivals if s == stream])
        assert firsts == sorted(firsts), f"{stream}: out of order after the resend, e.g. {_disorder(firsts)}"


def _key(payload: bytes) -> tuple[str, int]:
    env = json.loads(payload)
    return env["stream"], env["seq"]


def _delivered(messages: list[Inbound]) -> set[tuple[str, int]]:
    return {_key(m.payload) for m in messages}


def _first_arrivals(seqs: list[int]) -> list[int]:
    seen: set[int] = set()
    firsts = []
    for seq in seqs:
        if seq not in seen:
            seen.add(seq)
            firsts.append(seq)
    return firsts


def _disorder(seqs: list[int]) -> list[int]:
    at = next(i for i in range(1, len(seqs)) if seqs[i] < seqs[i - 1])
    return seqs[max(0, at - 3) : at + 3]
