"""The MQTT source against a real mosquitto: numbers and JSON in, a bad message skipped, a broker restart survived."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from cloud_sync import Message
from edge_runtime.drops import QUEUE_FULL, DropCounter
from edge_runtime.sources import BAD_MESSAGE, MqttSourceConfig, build_source
from tests.sources._harness import Harness
from tests.support.mosquitto import Mosquitto
from tests.support.mqtt_client import probe


async def publish(port: int, topic: str, *payloads: str) -> None:
    async with probe(port) as client:
        for payload in payloads:
            await client.publish(topic, payload)


def mqtt_source(port: int, **options: object) -> Harness:
    drops = DropCounter()
    config = MqttSourceConfig.model_validate(
        {"type": "mqtt", "host": "127.0.0.1", "port": port, "topic": "sensors/#", "qos": 1,
         "backoff_initial": 0.1, "backoff_max": 0.5, **options}
    )  # fmt: skip
    return Harness(build_source(config, "env", drops, Path.cwd()), drops)


@pytest.mark.broker
def test_numbers_and_json_become_readings_and_bad_messages_are_skipped(
    mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    harness = mqtt_source(mosquitto.port)

    async def scenario() -> None:
        async with harness:
            await harness.wait_for("subscribed", lambda: harness.source.status().connected, timeout=10)
            await publish(mosquitto.port, "sensors/porch", "21.5", "not a number", '{"t": 20, "env": {"rh": 41}}')
            await publish(mosquitto.port, "sensors/shed", '{"id": "no numbers"}', "-4")
            await harness.wait_for("three readings", lambda: len(harness.readings) >= 3, timeout=10)
            await harness.wait_for("two bad", lambda: harness.drops.snapshot().get(BAD_MESSAGE, 0) >= 2, timeout=5)

    asyncio.run(scenario())
    readings = harness.readings
    assert [r.values for r in readings] == [{"value": 21.5}, {"t": 20.0, "env.rh": 41.0}, {"value": -4.0}]
    assert [r.source for r in readings] == ["sensors/porch", "sensors/porch", "sensors/shed"]
    assert [r.seq for r in readings] == [0, 1, 2]
    assert all(r.stream == "env" for r in readings)
    assert harness.drops.snapshot() == {BAD_MESSAGE: 2}
    bad_lines = [rec.getMessage() for rec in caplog.records if "bad message" in rec.getMessage()]
    assert len(bad_lines) == 1  # the second within 10 s is counted, not logged
    assert all("\n" not in line for line in bad_lines)
    assert bad_lines[0].startswith("stream 'env' mqtt: topic 'sensors/porch': bad message (neither a number nor JSON)")


@pytest.mark.broker
def test_field_option_picks_one_value(mosquitto: Mosquitto) -> None:
    harness = mqtt_source(mosquitto.port, field="env.rh")

    async def scenario() -> None:
        async with harness:
            await harness.wait_for("subscribed", lambda: harness.source.status().connected, timeout=10)
            await publish(mosquitto.port, "sensors/a", '{"t": 20, "env": {"rh": 41}}', '{"t": 1}')
            await harness.wait_for("one reading", lambda: len(harness.readings) >= 1, timeout=10)
            await harness.wait_for("one bad", lambda: harness.drops.total >= 1, timeout=5)

    asyncio.run(scenario())
    assert [r.values for r in harness.readings] == [{"env.rh": 41.0}]


@pytest.mark.broker
def test_readings_resume_after_a_broker_restart(mosquitto: Mosquitto) -> None:
    harness = mqtt_source(mosquitto.port)

    async def scenario() -> None:
        async with harness:
            await harness.wait_for("subscribed", lambda: harness.source.status().connected, timeout=10)
            await publish(mosquitto.port, "sensors/a", "1")
            await harness.wait_for("first reading", lambda: len(harness.readings) == 1, timeout=10)
            mosquitto.stop()
            await harness.wait_for("broker loss noticed", lambda: not harness.source.status().connected, timeout=10)
            mosquitto.start()
            await harness.wait_for("resubscribed", lambda: harness.source.status().connected, timeout=10)
            await publish(mosquitto.port, "sensors/a", "2")
            await harness.wait_for("reading after restart", lambda: len(harness.readings) == 2, timeout=10)

    asyncio.run(scenario())
    assert [r.values["value"] for r in harness.readings] == [1.0, 2.0]
    assert [r.seq for r in harness.readings] == [0, 1]
    status = harness.source.status()
    assert status.reconnects >= 1
    assert status.last_error


@pytest.mark.broker
def test_a_burst_is_delivered_or_counted_never_lost_silently(
    mosquitto: Mosquitto, caplog: pytest.LogCaptureFixture
) -> None:
    """10,000 messages as fast as the broker takes them, one in ten malformed, into a slow pipeline (buffer 64):
    every message is a reading, a `queue_full` drop or a `bad_message` drop, and the bad ones cost one log line."""
    sent = 10_000
    harness = mqtt_source(mosquitto.port, buffer=64)
    harness.consume_s = 0.0005
    messages = [Message(i + 1, "sensors/burst", b"oops" if i % 10 == 0 else str(i).encode()) for i in range(sent)]

    def accounted() -> int:
        drops = harness.drops.snapshot()
        return len(harness.readings) + drops.get(QUEUE_FULL, 0) + drops.get(BAD_MESSAGE, 0)

    async def scenario() -> float:
        async with harness:
            await harness.wait_for("subscribed", lambda: harness.source.status().connected, timeout=10)
            async with probe(mosquitto.port) as client:
                start = time.monotonic()
                confirmed = await asyncio.wait_for(client.link.publish(messages), 60)
                seconds = time.monotonic() - start
                assert len(confirmed) == sent
            await harness.wait_for("every message accounted for", lambda: accounted() >= sent, timeout=30)
            await asyncio.sleep(0.5)  # nothing more may arrive
            return seconds

    seconds = asyncio.run(scenario())
    drops = harness.drops.snapshot()
    print(f"burst: {sent} sent in {seconds:.2f} s; {len(harness.readings)} readings, drops {drops}")
    assert accounted() == sent
    assert drops[BAD_MESSAGE] == sent // 10
    assert drops.get(QUEUE_FULL, 0) > 0, "the burst should overflow a 64-reading buffer"
    bad_lines = [rec.getMessage() for rec in caplog.records if "bad message" in rec.getMessage()]
    assert 1 <= len(bad_lines) <= 1 + int(seconds / 10) + 1
