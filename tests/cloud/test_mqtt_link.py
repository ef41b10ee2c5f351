"""The MQTT transport alone against a real mosquitto: windows, QoS 0, a connection lost in the middle of a batch."""

from __future__ import annotations

import asyncio
import signal

import pytest

from cloud_sync import Message, MqttConfig, MqttTransport
from tests.support.mosquitto import Mosquitto
from tests.support.mqtt_client import probe

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]
TOPIC = "edge/dev1/results/porch"


def _messages(n: int, first_id: int = 1) -> list[Message]:
    return [Message(first_id + i, TOPIC, str(first_id + i).encode()) for i in range(n)]


def _transport(port: int, qos: int = 1, max_inflight: int = 8) -> MqttTransport:
    config = MqttConfig(host="127.0.0.1", port=port, backoff_initial=0.1, backoff_max=0.5)
    return MqttTransport(config, "dev1", qos=qos, max_inflight=max_inflight)


async def _collect(port: int, n: int, ready: asyncio.Event) -> list[int]:
    async with probe(port, TOPIC) as client:
        ready.set()
        return [int(message.payload) for message in await client.take(n)]


@pytest.mark.parametrize("qos", [0, 1])
def test_overlapping_batches_beyond_the_window_arrive_in_order(mosquitto: Mosquitto, qos: int) -> None:
    async def scenario() -> tuple[list[list[int]], list[int]]:
        transport = _transport(mosquitto.port, qos=qos)
        runner = asyncio.create_task(transport.run())
        ready = asyncio.Event()
        listener = asyncio.create_task(_collect(mosquitto.port, 600, ready))
        try:
            await asyncio.wait_for(asyncio.gather(transport.wait_connected(), ready.wait()), 10)
            messages = _messages(600)
            calls = [transport.publish(messages[i : i + 200]) for i in range(0, 600, 200)]
            confirmed = await asyncio.wait_for(asyncio.gather(*calls), 20)
            return confirmed, await asyncio.wait_for(listener, 20)
        finally:
            runner.cancel()
            listener.cancel()
            await asyncio.gather(runner, listener, return_exceptions=True)

    confirmed, received = asyncio.run(scenario())
    assert confirmed == [list(range(1, 201)), list(range(201, 401)), list(range(401, 601))]
    assert received == list(range(1, 601))


def test_a_batch_cut_by_the_broker_is_partly_confirmed_and_not_overtaken(mosquitto: Mosquitto) -> None:
    async def scenario() -> tuple[list[int], list[int], list[int]]:
        transport = _transport(mosquitto.port, max_inflight=1)  # one round trip per message: the batch is slow
        runner = asyncio.create_task(transport.run())
        try:
            await asyncio.wait_for(transport.wait_connected(), 10)
            cut = asyncio.ensure_future(transport.publish(_messages(20_000)))
            await asyncio.sleep(0.2)
            mosquitto.stop(signal.SIGKILL)
            partial = await asyncio.wait_for(cut, 10)
            mosquitto.start()
            # continuing a batch left unconfirmed on the lost connection: must not send (it would overtake it)
            skipped = await asyncio.wait_for(transport.publish(_messages(5, 30_001), follows=True), 20)
            retried = await asyncio.wait_for(transport.publish(_messages(5, 30_001)), 20)
            return partial, skipped, retried
        finally:
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)

    partial, skipped, retried = asyncio.run(scenario())
    assert 0 < len(partial) < 20_000
    assert partial == list(range(1, len(partial) + 1)), "confirmed in order, a prefix of the batch"
    assert skipped == []
    assert retried == list(range(30_001, 30_006))
