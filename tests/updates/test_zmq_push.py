"""Model pushes over real ZeroMQ sockets on loopback, plain and with CURVE: the pusher's DEALER to the listener's
model relay, the listener's ROUTER to the device's one DEALER (its results link, `ZmqTransport`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from cloud_sync.config import CurveConfig, ZmqConfig
from cloud_sync.curve import allow_client, make_keypair, make_server_dir
from cloud_sync.listen_sources import ZmqSource
from cloud_sync.models import ModelPusher, Target
from cloud_sync.models.zmq import ZmqCloudLink
from cloud_sync.relay import ModelRelay
from cloud_sync.zmq_link import ZmqTransport
from tests.support.ports import free_port
from tests.updates.support import DEVICE, MODELS, Cloud, Device, wait_for

pytestmark = pytest.mark.timeout(60)


@dataclass
class Keys:
    server_dir: Path
    device: CurveConfig
    pusher: CurveConfig


def _keys(tmp: Path, *, device_allowed: bool = True, pusher_allowed: bool = True) -> Keys:
    """A listener key directory, and device and pusher key pairs, each in ``clients/`` when allowed."""
    server_dir = tmp / "curve" / "cloud"
    server_public = make_server_dir(server_dir)
    pairs = {name: make_keypair(tmp / "curve" / name, name) for name in (DEVICE, "pusher")}
    if pusher_allowed:
        allow_client(server_dir, pairs["pusher"][0])
    if device_allowed:
        allow_client(server_dir, pairs[DEVICE][0])
    device, pusher = (CurveConfig(server_key=server_public, client_key=pairs[n][1]) for n in (DEVICE, "pusher"))
    return Keys(server_dir, device, pusher)


@dataclass
class Links:
    relay: ModelRelay
    device: ZmqTransport
    pusher: ZmqCloudLink


async def _drain(source: ZmqSource) -> None:
    async for _ in source.batches():
        await source.ack()


@contextlib.asynccontextmanager
async def _links(keys: Keys | None = None, *, pusher_in: bool = True) -> AsyncIterator[Links]:
    """The listener with its relay, a device transport connected to it and a pusher connected to the relay."""
    endpoint = f"tcp://127.0.0.1:{free_port()}"
    source = ZmqSource(endpoint, lambda _: None, keys.server_dir if keys else None,
                       relay_bind=f"tcp://127.0.0.1:{free_port()}")
    tasks = [asyncio.create_task(_drain(source), name="listener")]
    try:
        await wait_for(lambda: source.relay is not None, 5, "the listener's relay")
        assert source.relay is not None
        device = ZmqTransport(ZmqConfig(endpoint=endpoint, curve=keys.device if keys else None), DEVICE)
        pusher = ZmqCloudLink(source.relay.endpoint, curve=keys.pusher if keys else None)
        tasks += [asyncio.create_task(device.run(), name="device"), asyncio.create_task(pusher.run(), name="pusher")]
        if pusher_in:
            await wait_for(lambda: source.relay is not None and source.relay.pushers, 5, "the pusher's hello")
        yield Links(source.relay, device, pusher)
    finally:
        for task in reversed(tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def test_push_over_zmq_goes_live_and_a_group_push_reaches_the_device(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path)

    async def scenario() -> None:
        async with _links() as links:
            await wait_for(lambda: DEVICE.encode() in links.relay.devices, 5, "the device's hello")
            device = Device(tmp_path, cloud, links.device, groups=["porch"])
            old = device.sha256
            async with device.running():
                final = await cloud.push(links.pusher, MODELS / "test_alt.tflite", 2, chunk_size=1024)
                assert final["state"] == "active", final
                assert device.sha256 != old
                manifest, data = cloud.manifest(MODELS / "test_alt.tflite", 3, target=Target(group="porch"))
                done = await ModelPusher(links.pusher).push(cloud.sign(manifest), manifest, data, timeout=10, expect=1)
                assert done[DEVICE]["state"] == "active"
                assert device.service.model("digits").ref.version == 3
            assert device.dropped() == []
            assert links.relay.drops.snapshot() == {}

    asyncio.run(scenario())


def test_push_over_a_curve_relay_goes_live(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path)

    async def scenario() -> None:
        async with _links(_keys(tmp_path, device_allowed=True)) as links:
            await wait_for(lambda: DEVICE.encode() in links.relay.devices, 5, "the device's hello over CURVE")
            device = Device(tmp_path, cloud, links.device)
            async with device.running():
                final = await cloud.push(links.pusher, MODELS / "test_alt.tflite", 2, chunk_size=1024)
                assert final["state"] == "active", final
                assert device.service.model("digits").ref.version == 2

    asyncio.run(scenario())


def test_a_device_with_an_unknown_curve_key_never_gets_the_push(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path)

    async def scenario() -> None:
        async with _links(_keys(tmp_path, device_allowed=False)) as links:
            device = Device(tmp_path, cloud, links.device)
            old = device.sha256
            async with device.running():
                await asyncio.sleep(1.5)  # a few reconnects' worth: no handshake may succeed
                assert links.relay.devices == set()
                final = await cloud.push(links.pusher, MODELS / "test_alt.tflite", 2, timeout=2.0, chunk_size=1024)
                assert final == {}
                assert device.sha256 == old
                assert device.service.model("digits").ref.version == 1
                assert links.device.last_error is not None

    asyncio.run(scenario())


def test_a_pusher_with_an_unknown_curve_key_reaches_no_device(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path)

    async def scenario() -> None:
        async with _links(_keys(tmp_path, pusher_allowed=False), pusher_in=False) as links:
            await wait_for(lambda: DEVICE.encode() in links.relay.devices, 5, "the device's hello over CURVE")
            device = Device(tmp_path, cloud, links.device)
            old = device.sha256
            async with device.running():
                final = await cloud.push(links.pusher, MODELS / "test_alt.tflite", 2, timeout=2.0, chunk_size=1024)
                assert final == {}
                assert links.relay.pushers == set()
                assert device.sha256 == old

    asyncio.run(scenario())
