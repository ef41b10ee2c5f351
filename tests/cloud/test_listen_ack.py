"""`edge-cloud listen` acknowledges MQTT messages only once it has stored them: what it received but had not
written when it went away is delivered again by the real broker."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess

import pytest

from cloud_sync.listen_sources import MqttOptions, MqttSource, Received
from tests.support.mosquitto import Mosquitto

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]


def publish(broker: Mosquitto, count: int) -> None:
    for seq in range(count):
        subprocess.run(
            ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "-q", "1",
             "-t", "edge/dev1/results/porch", "-m", f'{{"seq": {seq}}}'],
            check=True,
        )  # fmt: skip


async def receive(source: MqttSource, count: int, *, ack: bool, timeout: float = 10.0) -> list[Received]:
    """Take batches until `count` messages arrived (acknowledging each batch when `ack`), then disconnect."""
    got: list[Received] = []
    batches = source.batches()
    try:
        async with asyncio.timeout(timeout):
            async for batch in batches:
                got += [m for m in batch if "/results/" in m.topic]
                if ack:
                    await source.ack()
                if len(got) >= count:
                    break
    except TimeoutError:
        pass
    finally:
        with contextlib.suppress(Exception):
            await batches.aclose()  # type: ignore[attr-defined]
    return got


def test_messages_not_yet_stored_are_delivered_again(mosquitto: Mosquitto) -> None:
    """Each listener comes back at once under the same client id: a clean close makes sure the broker processed
    its acknowledgements first (else the session takeover can overtake them and they are delivered again)."""
    options = MqttOptions(host="127.0.0.1", port=mosquitto.port, client_id="listen-ack-test")

    async def scenario() -> tuple[list[Received], list[Received], list[Received]]:
        ready = asyncio.Event()
        first_source = MqttSource(options, lambda _: ready.set())
        first = asyncio.create_task(receive(first_source, 5, ack=False))
        await asyncio.wait_for(ready.wait(), 10)
        await asyncio.to_thread(publish, mosquitto, 5)
        unstored = await first  # received, never acknowledged: the listener "died" before writing
        again = await receive(MqttSource(options, lambda _: None), 5, ack=True)
        after_ack = await receive(MqttSource(options, lambda _: None), 1, ack=True, timeout=1.5)
        return unstored, again, after_ack

    unstored, again, after_ack = asyncio.run(scenario())
    assert len(unstored) == 5, unstored
    resent = sorted(m.payload for m in again)
    assert resent == sorted(m.payload for m in unstored), (again, unstored)  # the broker resent them
    assert after_ack == [], after_ack  # once acknowledged, they are gone from the session
