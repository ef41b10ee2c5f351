"""Simulated devices (real device-side code, fake interpreter) and a cloud model link, on a real mosquitto."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from cloud_sync.config import MqttConfig
from cloud_sync.fleet._agent import Agent, AgentSpec
from cloud_sync.fleet.simulate import agents, run_fleet
from cloud_sync.models.keys import TrustedKeys, generate_keys
from cloud_sync.models.mqtt import MqttCloudLink
from tests.support.mosquitto import Mosquitto

MODEL = (Path(__file__).resolve().parents[2] / "models" / "digits_uint8.tflite").read_bytes()  # 99 kB, 2 chunks


@contextlib.asynccontextmanager
async def fleet(mosquitto: Mosquitto, tmp_path: Path, count: int, fail: float, load_s: float = 0.05,
                prepare: Callable[[list[Agent]], None] | None = None) -> AsyncIterator[list[Agent]]:
    """`count` simulated devices in group ``porch``, running; `prepare` sees them before they start."""
    _, public = generate_keys(tmp_path / "fleet")
    spec = AgentSpec(MqttConfig(host="127.0.0.1", port=mosquitto.port), tmp_path / "devices",
                     TrustedKeys.load([public]), groups=("porch",), rate=0, load_s=load_s)
    devices = agents(spec, count, fail)
    if prepare is not None:
        prepare(devices)
    task = asyncio.create_task(run_fleet(devices))
    try:
        for agent in devices:
            assert await agent.wait_connected(20)
        yield devices
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@contextlib.asynccontextmanager
async def cloud(mosquitto: Mosquitto) -> AsyncIterator[MqttCloudLink]:
    link = MqttCloudLink(MqttConfig(host="127.0.0.1", port=mosquitto.port))
    task = asyncio.create_task(link.run())
    try:
        assert await link.wait_connected(10)
        yield link
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
