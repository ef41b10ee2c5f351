"""The MQTT source against a real mosquitto: numbers and JSON in, a bad message skipped, a broker restart survived."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiomqtt
import pytest

from edge_runtime.drops import DropCounter
from edge_runtime.sources import BAD_MESSAGE, MqttSourceConfig, build_source
from tests.sources._harness import Harness
from tests.support.mosquitto import Mosquitto


async def publish(port: int, topic: str, *payloads: str) -> None:
    async with aiomqtt.Client("127.0.0.1", port) as client:
        for payload in payloads:
            await client.publish(topic, payload, qos=1)


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
    assert len(bad_lines) == 2
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
