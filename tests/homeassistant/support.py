"""A Home-Assistant-like MQTT client, a runtime run in-process, and the device configs of the tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import cv2

from cloud_sync import Inbound
from edge_runtime.config import load_config
from edge_runtime.demo import demo_images
from edge_runtime.engine import Runtime, build_runtime
from edge_runtime.inference.fetch import fetch
from edge_runtime.scheduler import AcceleratorService
from tests.support.mqtt_client import Probe, probe

REPO = Path(__file__).resolve().parents[2]
DEVICE = "ha-01"

# What Home Assistant requires of a discovered config, per component, from its MQTT docs:
#   discovery (topic <prefix>/<component>/[<node_id>/]<object_id>/config; `unique_id` is needed for the entity
#   to join the device registry; a `device` needs `identifiers` or `connections`):
#     https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery
#   sensor: `state_topic` required            https://www.home-assistant.io/integrations/sensor.mqtt/
#   binary_sensor: `state_topic` required     https://www.home-assistant.io/integrations/binary_sensor.mqtt/
#   switch: `command_topic` required          https://www.home-assistant.io/integrations/switch.mqtt/
#   image: `image_topic` or `url_topic`       https://www.home-assistant.io/integrations/image.mqtt/
#          (with `image_topic`, `content_type` names the image's MIME type)
#   availability entries: `topic` required    (same pages, "availability" list)
REQUIRED = {
    "sensor": {"state_topic"},
    "binary_sensor": {"state_topic"},
    "switch": {"command_topic"},
    "image": {"image_topic", "content_type"},
}
COMMON = {"unique_id", "device", "availability", "name"}
DEVICE_KEYS = {"identifiers", "name", "model", "sw_version", "manufacturer"}


def blazeface() -> Path:
    return fetch("face_detection_short_range", REPO / "var" / "models")


def write_photos(directory: Path, names: list[str]) -> None:
    """`names` are demo photos (01-astronaut.png, 02-coffee.png): written in this order as frame files."""
    photos = demo_images()
    directory.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(names):
        cv2.imwrite(str(directory / f"{index:03d}.png"), photos[name])


def device_config(
    tmp_path: Path, port: int, streams: dict[str, str], ha: str, *, fps: float = 10, stages: str = "", extra: str = ""
) -> Path:
    """`streams`: name -> images directory (relative to tmp_path); `stages`: more stages after the score filter."""
    blocks = "".join(
        f"""\
  {name}:
    source: {{type: images, path: {folder}, fps: {fps}, loop: true}}
    priority: high
    labels: [face]
    pipeline:
      - {{type: infer, model: faces}}
      - {{type: filter, name: confident, min_score: 0.6}}
{stages}    sinks: [results, cloud]
"""
        for name, folder in streams.items()
    )
    path = tmp_path / "device.yaml"
    path.write_text(
        f"""\
device: {{id: {DEVICE}}}
accelerator: {{threads: 1}}
models:
  faces: {{path: {blazeface()}, labels: [face], decoder: {{type: blazeface}}}}
streams:
{blocks}sinks:
  results: {{type: memory}}
cloud:
  mqtt: {{host: 127.0.0.1, port: {port}, backoff_initial: 0.1, backoff_max: 0.5}}
  outbox: {{path: outbox.db}}
homeassistant: {ha}
status: {{display: off}}
http: {{enabled: false}}
{extra}"""
    )
    return path


@contextlib.asynccontextmanager
async def running(config: Path) -> AsyncIterator[tuple[Runtime, AcceleratorService]]:
    runtime, service = build_runtime(load_config(config), config.parent, display="off")
    task = asyncio.create_task(runtime.run(), name="runtime")
    try:
        yield runtime, service
    finally:
        runtime.stop()
        await asyncio.wait_for(task, 15)
    assert not runtime.failed


async def eventually(check: Callable[[], bool], timeout: float, what: str) -> float:
    """Wait until `check()` holds; returns when (monotonic)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.02)
    return time.monotonic()


class HomeAssistantView:
    """What Home Assistant would know: retained configs by topic, and the latest value of every topic."""

    def __init__(self, client: Probe, prefix: str = "homeassistant") -> None:
        self.client = client
        self.prefix = prefix
        self.configs: dict[str, dict[str, Any]] = {}
        self.cleared: set[str] = set()
        self.values: dict[str, list[tuple[float, bytes]]] = {}

    async def follow(self) -> None:
        """Take each message as it arrives (so its time is the arrival time)."""
        while True:
            self.take(await self.client.queue.get())

    def pump(self) -> None:
        while (message := self.client.queue.get_nowait()) is not None:
            self.take(message)

    def take(self, message: Inbound) -> None:
        if message.topic.startswith(f"{self.prefix}/") and message.topic.endswith("/config"):
            if message.payload:
                self.configs[message.topic] = json.loads(message.payload)
                self.cleared.discard(message.topic)
            else:
                self.configs.pop(message.topic, None)
                self.cleared.add(message.topic)
        else:
            self.values.setdefault(message.topic, []).append((time.monotonic(), message.payload))

    def current(self) -> dict[str, dict[str, Any]]:
        """The configs known now."""
        self.pump()
        return self.configs

    def latest(self, topic: str) -> bytes | None:
        self.pump()
        seen = self.values.get(topic)
        return seen[-1][1] if seen else None

    def history(self, topic: str) -> list[tuple[float, bytes]]:
        self.pump()
        return list(self.values.get(topic, []))

    def clear(self) -> None:
        self.pump()
        self.configs.clear()
        self.values.clear()


@contextlib.asynccontextmanager
async def home_assistant(port: int) -> AsyncIterator[HomeAssistantView]:
    async with probe(port, "homeassistant/#", f"edge/{DEVICE}/#") as client:
        view = HomeAssistantView(client)
        follower = asyncio.create_task(view.follow(), name="home-assistant-view")
        try:
            yield view
        finally:
            follower.cancel()
