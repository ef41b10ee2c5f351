"""Hostile sensor traffic on a real mosquitto: every bad message is counted `bad_message` and skipped, the
stream survives and reads the next good message, memory stays bounded (RSS sampled during the burst, printed)."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
import time
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edge_runtime.drops import DropCounter
from edge_runtime.sources import BAD_MESSAGE, MqttSourceConfig, build_source
from tests.sources._harness import Harness
from tests.support.mosquitto import Mosquitto

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]

# (payload, a reading is expected): the source must survive each of them
HOSTILE: list[tuple[bytes, bool]] = [
    (b"1" + b"0" * 400, False),  # 10^400: beyond a float
    (b"[" * 2000 + b"]" * 2000, False),
    (b'{"a":' * 2000 + b"1" + b"}" * 2000, False),
    (random.Random(7).randbytes(2000), False),  # garbage
    (b"1" * (5 * 1024**2), False),  # 5 MB
    (b"NaN", False),
    (b"Infinity", False),
    (b"-Infinity", False),
    (b"1e400", False),
    (b'{"t": NaN, "u": 1}', True),  # the non-finite field is left out
    (b'{"t": "warm"}', False),
    (b'"21"', False),
    (b"[1, 2]", False),
    (b"null", False),
    (b"", False),
    (b"9" * 5000, False),  # over Python's int-parsing digit limit
    (b"{" + b",".join(b'"k%d": 1' % i for i in range(3000)) + b"}", False),
]
ROUNDS = 8


def hostile_burst() -> list[bytes]:
    return [payload for _ in range(ROUNDS) for payload, _ in HOSTILE] + [b"21.5"]


def publish_all(port: int, topic: str, payloads: list[bytes]) -> None:
    """QoS 1 from one client, in order."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"hostile-{time.monotonic_ns()}")
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        infos = [client.publish(topic, payload, qos=1) for payload in payloads]
        for info in infos:
            info.wait_for_publish(30)
    finally:
        client.disconnect()
        client.loop_stop()


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS in /proc/self/status")


def test_hostile_messages_are_counted_and_skipped_and_the_stream_lives(mosquitto: Mosquitto) -> None:
    drops = DropCounter()
    config = MqttSourceConfig.model_validate(
        {"type": "mqtt", "host": "127.0.0.1", "port": mosquitto.port, "topic": "s/#", "qos": 1,
         "buffer": 1024, "backoff_initial": 0.1, "backoff_max": 0.5}
    )  # fmt: skip
    harness = Harness(build_source(config, "env", drops, Path.cwd()), drops)
    messages = ROUNDS * len(HOSTILE) + 1
    good = ROUNDS * sum(ok for _, ok in HOSTILE) + 1
    samples: list[float] = []

    async def sample_rss(stop: asyncio.Event) -> None:
        while not stop.is_set():
            samples.append(rss_mib())
            await asyncio.sleep(0.05)

    async def scenario() -> None:
        async with harness:
            await harness.wait_for("subscribed", lambda: harness.source.status().connected, timeout=10)
            before = rss_mib()
            stop = asyncio.Event()
            sampler = asyncio.create_task(sample_rss(stop))
            # published by another process, so the RSS sampled here is the receiving side's alone
            code = f"from {__name__} import *; publish_all({mosquitto.port}, 's/p', hostile_burst())"
            await asyncio.to_thread(subprocess.run, [sys.executable, "-c", code], check=True, cwd=ROOT)
            await harness.wait_for("the good reading after the burst", lambda: len(harness.readings) >= good, 60)
            stop.set()
            await sampler
            print(f"RSS before {before:.0f} MiB, peak during the burst {max(samples):.0f} MiB, "
                  f"{len(samples)} samples, {messages} messages ({ROUNDS * 5} MB of 5 MB payloads)")  # fmt: skip
            assert max(samples) - before < 200, "memory grew with the hostile burst"
            assert harness.source.status().connected

    asyncio.run(scenario())
    assert harness.readings[-1].values == {"value": 21.5}
    assert len(harness.readings) == good
    assert drops.snapshot() == {BAD_MESSAGE: messages - good}
