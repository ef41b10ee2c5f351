"""The model-update history in `/api/status` and on the console page, after real signed pushes over a real
mosquitto to a real runtime process: one accepted, one refused (with its reason)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from cloud_sync.config import MqttConfig
from cloud_sync.models import ModelPusher
from cloud_sync.models.mqtt import MqttCloudLink
from tests.http.support import HTTP, ROOT, Served, serve, wait_until
from tests.http.test_console import chromium
from tests.support.mosquitto import Mosquitto
from tests.updates.support import DEVICE, DIGITS, MODELS, Cloud

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]


def config_text(tmp_path: Path, port: int, cloud: Cloud) -> str:
    return f"""\
device: {{id: {DEVICE}}}
accelerator: {{threads: 1}}
models:
  digits: {{path: {DIGITS}, labels: {MODELS / "digits_labels.txt"}, decoder: {{type: classification, top_k: 1}}}}
streams:
  cam:
    source: {{type: synthetic, fps: 20, width: 32, height: 32}}
    pipeline: [{{type: infer, model: digits}}]
    sinks: [cloud]
cloud:
  mqtt: {{host: 127.0.0.1, port: {port}, backoff_initial: 0.2, backoff_max: 1}}
  outbox: {{path: {tmp_path / "outbox.db"}}}
  models: {{trusted_keys: [{cloud.pub}], dir: {tmp_path / "store"}, health: {{duration: 0}}}}
status: {{display: off}}
{HTTP}"""


async def push(broker: Mosquitto, cloud: Cloud, path: Path, version: int) -> dict[str, Any]:
    link = MqttCloudLink(MqttConfig(host="127.0.0.1", port=broker.port, backoff_initial=0.2, backoff_max=1.0))
    task = asyncio.create_task(link.run(), name="cloud-models-link")
    try:
        assert await link.wait_connected(10)
        manifest, data = cloud.manifest(path, version)
        final = await ModelPusher(link, retry=1.0).push(cloud.sign(manifest), manifest, data, timeout=30)
        return final.get(DEVICE, {})
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def test_pushes_show_in_the_update_history_of_the_status_and_the_page(tmp_path: Path) -> None:
    broker = Mosquitto(tmp_path)
    broker.start()
    cloud = Cloud(tmp_path)
    config = tmp_path / "device.yaml"
    config.write_text(config_text(tmp_path, broker.port, cloud))
    try:
        with serve(config) as runtime:
            assert runtime.status()["model_updates"] == []
            wait_until(lambda: runtime.stream("cam")["completed"] > 20, 20, "frames for the canary")
            accepted = asyncio.run(push(broker, cloud, MODELS / "test_alt.tflite", 2))
            assert accepted["state"] == "active", accepted
            refused = asyncio.run(push(broker, cloud, DIGITS, 2))
            assert refused["state"] == "rejected", refused
            check_history(runtime)
    finally:
        broker.stop()


def check_history(runtime: Served) -> None:
    history = runtime.status()["model_updates"]
    states = [(h["version"], h["state"]) for h in history]
    # the second push is refused as soon as its manifest is read: no newer version
    assert states == [(2, "rejected"), (2, "received"), (2, "active"), (2, "verified"), (2, "received")], states
    assert history[0]["reason"] == "version 2 is not newer than the active version 2"
    assert all(h["name"] == "digits" for h in history)
    assert history[0]["ts"] >= history[-1]["ts"]
    assert runtime.stream("cam")["model"]["version"] == 2
    dom = chromium("--dump-dom", runtime.url)
    items = re.findall(r'<li class="update (\w+)">([^<]*)</li>', dom)
    assert [state for state, _ in items] == [state for _, state in states], items
    assert items[0][1].endswith("digits v2 rejected: version 2 is not newer than the active version 2")
    assert items[2][1].endswith("digits v2 active")
    assert str(ROOT) not in dom  # no file path leaks into the page
