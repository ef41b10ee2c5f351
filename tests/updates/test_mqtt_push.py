"""Model pushes end to end over a real mosquitto: real accelerator service, real models, a stream at its fps."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from cloud_sync import MqttTransport
from cloud_sync.config import MqttConfig
from cloud_sync.models import ModelPusher, Target, rollback_command
from cloud_sync.models.mqtt import MqttCloudLink
from edge_runtime.jobs import Completed
from tests.support.mosquitto import Mosquitto
from tests.updates.support import DEVICE, DIGITS, MODELS, Cloud, Device, wait_for

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]


@contextlib.asynccontextmanager
async def links(broker: Mosquitto) -> AsyncIterator[tuple[MqttTransport, MqttCloudLink]]:
    """The device's one link (model updates subscribe to it) and the cloud's model link."""
    config = MqttConfig(host="127.0.0.1", port=broker.port, backoff_initial=0.2, backoff_max=1.0)
    device, cloud = MqttTransport(config, DEVICE), MqttCloudLink(config)
    tasks = [asyncio.create_task(device.run(), name="device-link"), asyncio.create_task(cloud.run(), name="cloud-link")]
    try:
        await asyncio.wait_for(device.wait_connected(), 10)
        assert await cloud.wait_connected(10)
        yield device, cloud
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def test_valid_push_switches_within_5s_and_drops_no_frame(tmp_path: Path, mosquitto: Mosquitto) -> None:
    cloud = Cloud(tmp_path)
    seen: list[tuple[float, dict[str, Any]]] = []

    async def scenario() -> None:
        async with links(mosquitto) as (device_link, cloud_link):
            device = Device(tmp_path, cloud, device_link, fps=30)
            old = device.sha256
            async with device.running():
                await wait_for(lambda: len(device.completed()) >= 10, 5, "the stream to run")
                manifest, data = cloud.manifest(MODELS / "test_alt.tflite", version=2)
                pusher = ModelPusher(cloud_link, on_status=lambda s: seen.append((time.monotonic(), s)))
                final = await pusher.push(cloud.sign(manifest), manifest, data, timeout=20)
                assert final[DEVICE]["state"] == "active", final
                t_active = next(t for t, s in seen if s["state"] == "active")
                await asyncio.sleep(1.0)  # the stream keeps running on the new version
            new_results = [(t, o) for t, o in device.outcomes if isinstance(o, Completed) and o.model.sha256 != old]
            assert new_results, "no result from the new version"
            assert new_results[0][0] <= t_active + 5.0
            assert device.dropped() == [], device.dropped()  # the swap cost no frame
            shas = [o.model.sha256 for o in device.completed()]
            switch = shas.index(manifest.sha256)
            assert set(shas[:switch]) == {old}
            assert set(shas[switch:]) == {manifest.sha256}
            states = [s["state"] for _, s in seen]
            assert states == ["received", "verified", "staged", "canary", "active"], states
            assert device.updater.store.active("digits").sha256 == manifest.sha256  # type: ignore[union-attr]

    asyncio.run(scenario())


def test_bad_signature_over_the_broker_is_rejected_and_old_model_serves(tmp_path: Path, mosquitto: Mosquitto) -> None:
    cloud = Cloud(tmp_path)

    async def scenario() -> None:
        async with links(mosquitto) as (device_link, cloud_link):
            device = Device(tmp_path, cloud, device_link)
            old = device.sha256
            async with device.running():
                manifest, data = cloud.manifest(MODELS / "test_alt.tflite", version=2)
                signed = cloud.sign(manifest, key=cloud.stranger)
                final = await ModelPusher(cloud_link).push(signed, manifest, data, timeout=10)
                assert final[DEVICE]["state"] == "rejected"
                assert final[DEVICE]["reason"].startswith("unknown key")
                count = len(device.completed())
                await wait_for(lambda: len(device.completed()) > count + 5, 5, "results after the refusal")
            assert {o.model.sha256 for o in device.completed()} == {old}

    asyncio.run(scenario())


def test_link_cut_during_transfer_resumes_without_resending_finished_chunks(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    cloud = Cloud(tmp_path)

    async def scenario() -> None:
        async with links(mosquitto) as (device_link, cloud_link):
            device = Device(tmp_path, cloud, device_link)
            async with device.running(stream=False):
                manifest, data = cloud.manifest(DIGITS, version=2, chunk_size=1024)
                pusher = ModelPusher(cloud_link, retry=1.0, rate=150)
                push = asyncio.create_task(pusher.push(cloud.sign(manifest), manifest, data, timeout=40))
                receiver = device.updater.receiver

                def have() -> set[int]:
                    transfer = receiver.transfers.get("digits")
                    return set(transfer.have) if transfer else set()

                await wait_for(lambda: len(have()) >= 30, 10, "30 chunks")
                mosquitto.stop()
                finished = have()
                assert len(finished) < manifest.chunks
                await asyncio.sleep(1.0)
                mosquitto.start()
                final = await push
            assert final[DEVICE]["state"] == "active", final
            # A chunk whose PUBACK died with the broker may be delivered twice (QoS 1 is at-least-once); the
            # receiver ignores such duplicates. What must not happen is the cloud sending a finished chunk again.
            resent = {i for i, n in pusher.sent_chunks.items() if n > 1}
            assert not resent & finished, f"finished chunks sent again: {sorted(resent & finished)}"
            assert set(pusher.sent_chunks) == set(range(manifest.chunks))
            assert device_link.connects >= 2
            assert cloud_link.connects >= 2

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("model", "updates", "reason"),
    [
        ("test_nan.tflite", {"canary": {"frames": 0}}, "non-finite"),
        ("test_slow.tflite", {"health": {"duration": 3.0, "window": 10, "max_latency_factor": 3.0}}, "median run"),
    ],
    ids=["nan", "slow"],
)
def test_bad_model_in_service_is_rolled_back_automatically(
    tmp_path: Path, mosquitto: Mosquitto, model: str, updates: dict[str, Any], reason: str
) -> None:
    """The canary is loosened so the model reaches service; the health watch must take it out (group push)."""
    cloud = Cloud(tmp_path)

    async def scenario() -> None:
        async with links(mosquitto) as (device_link, cloud_link):
            device = Device(tmp_path, cloud, device_link, groups=["porch"], **updates)
            old = device.sha256
            async with device.running():
                await wait_for(lambda: len(device.completed()) >= 10, 5, "the stream to run")
                manifest, data = cloud.manifest(MODELS / model, version=2, target=Target(group="porch"))
                pusher = ModelPusher(cloud_link)
                final = await pusher.push(cloud.sign(manifest), manifest, data, timeout=20, expect=1, watch=10)
                assert final[DEVICE]["state"] == "rolled_back", final
                assert reason in final[DEVICE]["reason"]
                assert device.sha256 == old
                count = len(device.completed())
                await wait_for(lambda: len(device.completed()) > count + 5, 5, "results after the rollback")
            assert device.completed()[-1].model.sha256 == old
            assert device.updater.store.active("digits").sha256 == old  # type: ignore[union-attr]

    asyncio.run(scenario())


def test_rollback_command_restores_the_previous_version(tmp_path: Path, mosquitto: Mosquitto) -> None:
    cloud = Cloud(tmp_path)

    async def scenario() -> None:
        async with links(mosquitto) as (device_link, cloud_link):
            device = Device(tmp_path, cloud, device_link)
            old = device.sha256
            async with device.running():
                final = await cloud.push(cloud_link, MODELS / "test_alt.tflite", version=2)
                assert final["state"] == "active"
                command = rollback_command("digits", Target(devices=(DEVICE,)))
                done = await ModelPusher(cloud_link).push(cloud.sign(command), command, timeout=10)
                assert done[DEVICE]["state"] == "rolled_back"
                assert done[DEVICE]["restored_version"] == 1
                assert device.sha256 == old
                inventory = await ModelPusher(cloud_link).query(DEVICE)
                assert inventory is not None
                assert inventory["models"]["digits"]["version"] == 1

    asyncio.run(scenario())
