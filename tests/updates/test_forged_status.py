"""A manifest whose signature does not verify cannot end someone else's push; the honest wrong-key case still
ends in seconds with the device's reason. Real accelerator service, real models, the in-memory link."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest

from cloud_sync.models import MemoryHub, ModelPusher, manifest_message
from tests.updates.support import DEVICE, DIGITS, MODELS, Cloud, Device, wait_for

pytestmark = pytest.mark.timeout(60)


def test_forged_manifests_with_the_real_push_id_do_not_end_the_push(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path)
    hub = MemoryHub()
    statuses: list[dict[str, Any]] = []

    async def scenario() -> None:
        device = Device(tmp_path, cloud, hub.device(DEVICE))
        async with device.running(stream=False):
            manifest, data = cloud.manifest(DIGITS, 2, chunk_size=1024)  # 97 chunks at 300/s: ~0.3 s of transfer
            claim = base64.b64encode(json.dumps({"push_id": manifest.push_id}).encode()).decode()
            unsigned = json.dumps({"key": "0" * 16, "manifest": claim, "signature": ""})
            forgeries = [cloud.sign(manifest, cloud.stranger), unsigned.encode()]

            async def forger() -> None:  # anyone on the broker, once the device is fetching chunks
                await wait_for(lambda: any(s["state"] == "verified" for s in statuses), 10, "the verified status")
                for body in forgeries:
                    await hub.cloud().publish(f"edge/{DEVICE}/models/push", manifest_message(body))

            task = asyncio.create_task(forger(), name="forger")
            pusher = ModelPusher(hub.cloud(), retry=1.0, rate=300, on_status=statuses.append)
            final = await pusher.push(cloud.sign(manifest), manifest, data, timeout=20)
            await task
        assert final[DEVICE]["state"] == "active", final
        refusals = [s for s in statuses if s["state"] == "rejected"]
        assert len(refusals) == 2, statuses  # the device did refuse both forgeries, with the real push id
        assert all(s["push_id"] == manifest.push_id and s["unverified"] is True for s in refusals)
        assert device.service.model("digits").ref.version == 2

    asyncio.run(scenario())


@pytest.mark.parametrize("group", [False, True])
def test_a_key_the_device_does_not_trust_ends_the_push_in_seconds_with_its_reason(tmp_path: Path, group: bool) -> None:
    cloud = Cloud(tmp_path)
    hub = MemoryHub()

    async def scenario() -> None:
        groups = ("lobby",) if group else ()
        device = Device(tmp_path, cloud, hub.device(DEVICE), groups=list(groups))
        async with device.running(stream=False):
            kw: dict[str, Any] = {"target": {"group": "lobby"}} if group else {}
            manifest, data = cloud.manifest(MODELS / "test_alt.tflite", 2, **kw)
            start = time.monotonic()
            final = await ModelPusher(hub.cloud(), retry=1.0).push(
                cloud.sign(manifest, cloud.stranger), manifest, data, timeout=40
            )
            took = time.monotonic() - start
        assert final[DEVICE]["state"] == "rejected", final
        assert final[DEVICE]["reason"].startswith("unknown key"), final
        assert took < 30, f"ended at the timeout ({took:.1f} s), not on the device's refusal"

    asyncio.run(scenario())
