"""Model pushes over real ZeroMQ sockets on loopback (device DEALER, cloud ROUTER)."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from cloud_sync.models import ModelPusher, Target
from cloud_sync.models.zmq import ZmqCloudLink, ZmqDeviceLink
from tests.updates.support import DEVICE, MODELS, Cloud, Device, wait_for

pytestmark = pytest.mark.timeout(60)


def test_push_over_zmq_goes_live_and_a_group_push_reaches_the_device(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path)

    async def scenario() -> None:
        cloud_link = ZmqCloudLink("tcp://127.0.0.1:*")
        device_link = ZmqDeviceLink(cloud_link.endpoint, DEVICE, groups=["porch"])
        tasks = [
            asyncio.create_task(cloud_link.run(), name="router"),
            asyncio.create_task(device_link.run(), name="dealer"),
        ]
        try:
            await wait_for(lambda: DEVICE in cloud_link.groups, 5, "the device's hello")
            device = Device(tmp_path, cloud, device_link, groups=["porch"])
            old = device.sha256
            async with device.running():
                final = await cloud.push(cloud_link, MODELS / "test_alt.tflite", 2, chunk_size=1024)
                assert final["state"] == "active", final
                assert device.sha256 != old
                manifest, data = cloud.manifest(MODELS / "test_alt.tflite", 3, target=Target(group="porch"))
                done = await ModelPusher(cloud_link).push(cloud.sign(manifest), manifest, data, timeout=10, expect=1)
                assert done[DEVICE]["state"] == "active"
                assert device.service.model("digits").ref.version == 3
            assert device.dropped() == []
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    asyncio.run(scenario())
