"""Model pushes over real ZeroMQ sockets on loopback (device DEALER, cloud ROUTER), plain and with CURVE."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest

from cloud_sync.config import CurveConfig
from cloud_sync.curve import allow_client, make_keypair, make_server_dir
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


def _curve(tmp: Path, *, allowed: bool) -> tuple[Path, CurveConfig]:
    """A cloud key directory and a device key pair; the device's public key is in `clients/` when `allowed`."""
    server_dir = tmp / "curve" / "cloud"
    server_public = make_server_dir(server_dir)
    client_public, client_secret = make_keypair(tmp / "curve" / "device", DEVICE)
    if allowed:
        allow_client(server_dir, client_public)
    return server_dir, CurveConfig(server_key=server_public, client_key=client_secret)


async def _links(tmp: Path, *, allowed: bool) -> tuple[ZmqCloudLink, ZmqDeviceLink, list[asyncio.Task[None]]]:
    server_dir, curve = _curve(tmp, allowed=allowed)
    cloud_link = ZmqCloudLink("tcp://127.0.0.1:*", curve_dir=server_dir)
    device_link = ZmqDeviceLink(cloud_link.endpoint, DEVICE, curve=curve)
    tasks = [
        asyncio.create_task(cloud_link.run(), name="router"),
        asyncio.create_task(device_link.run(), name="dealer"),
    ]
    return cloud_link, device_link, tasks


async def _stop(tasks: list[asyncio.Task[None]]) -> None:
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def test_push_over_a_curve_model_link_goes_live(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path)

    async def scenario() -> None:
        cloud_link, device_link, tasks = await _links(tmp_path, allowed=True)
        try:
            await wait_for(lambda: DEVICE in cloud_link.groups, 5, "the device's hello over CURVE")
            device = Device(tmp_path, cloud, device_link)
            async with device.running():
                final = await cloud.push(cloud_link, MODELS / "test_alt.tflite", 2, chunk_size=1024)
                assert final["state"] == "active", final
                assert device.service.model("digits").ref.version == 2
        finally:
            await _stop(tasks)

    asyncio.run(scenario())


def test_a_device_with_an_unknown_curve_key_never_gets_the_push(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path)

    async def scenario() -> None:
        cloud_link, device_link, tasks = await _links(tmp_path, allowed=False)
        try:
            device = Device(tmp_path, cloud, device_link)
            old = device.sha256
            async with device.running():
                await asyncio.sleep(1.5)  # a few hellos' worth: none may get through
                assert cloud_link.groups == {}
                final = await cloud.push(cloud_link, MODELS / "test_alt.tflite", 2, timeout=2.0, chunk_size=1024)
                assert final == {}
                assert device.sha256 == old
                assert device.service.model("digits").ref.version == 1
        finally:
            await _stop(tasks)

    asyncio.run(scenario())
