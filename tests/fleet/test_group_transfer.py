"""A group push to 50 simulated devices through a real mosquitto: each chunk is published once on the group
topic (the broker fans it out to each member's subscription), and a device that missed chunks asks for, and
gets, only those."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from cloud_sync.envelope import Inbound
from cloud_sync.fleet._agent import Agent
from cloud_sync.inbound import Handler
from cloud_sync.models.inbox import ModelInbox
from cloud_sync.models.keys import load_private_key
from cloud_sync.models.links import DeviceLink
from cloud_sync.models.manifest import Target, make_manifest, sign_manifest
from cloud_sync.models.pusher import ModelPusher
from cloud_sync.models.wire import Chunk, parse_push, push_topics
from tests.fleet.simulated import MODEL, cloud, fleet
from tests.support.mosquitto import Mosquitto

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]
CHUNK = 16 * 1024  # 7 chunks


class Lossy:
    """A device link that loses the first copy of some chunks (as a device that was briefly away would)."""

    def __init__(self, link: DeviceLink, lose: set[int]) -> None:
        self.link = link
        self.lose = set(lose)
        self.asked: list[int] = []

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        def lossy(message: Inbound) -> object:
            chunk = parse_push(message.payload)
            if isinstance(chunk, Chunk) and chunk.index in self.lose:
                self.lose.discard(chunk.index)
                return None
            return handler(message)

        self.link.subscribe(topic_filter, lossy)

    async def send(self, suffix: str, payload: bytes) -> bool:
        if suffix.endswith("need"):
            self.asked += json.loads(payload)["missing"]
        return await self.link.send(suffix, payload)


def test_a_group_push_sends_each_chunk_once_and_serves_only_what_a_device_missed(mosquitto: Mosquitto,
                                                                                tmp_path: Path) -> None:
    async def scenario() -> tuple[dict[str, dict[str, Any]], ModelPusher, list[tuple[int, str]], Lossy]:
        lossy: Lossy | None = None

        def lose_chunks(devices: list[Agent]) -> None:
            nonlocal lossy
            device = devices[7]
            lossy = Lossy(device.link, lose={2, 5})
            # this device's inbox hears the link through `lossy` (the first inbox is never run: its queue just fills)
            device.inbox = ModelInbox(lossy, device.inbox.receiver, device.installer,
                                      push_topics("edge", device.name, ("porch",)))

        async with fleet(mosquitto, tmp_path, 50, fail=0.0, prepare=lose_chunks) as devices, cloud(mosquitto) as link:
            assert lossy is not None
            manifest = make_manifest("faces", 2, MODEL, Target(group="porch"), chunk_size=CHUNK)
            pusher = ModelPusher(link)
            final = await pusher.push(sign_manifest(manifest, load_private_key(tmp_path / "fleet.key")), manifest,
                                      MODEL, timeout=60, expect=50)
            return final, pusher, [a.installer.serving["faces"] for a in devices], lossy

    final, pusher, serving, lossy = asyncio.run(scenario())
    assert len(final) == 50
    assert {body["state"] for body in final.values()} == {"active"}
    assert all(version == 2 for version, _ in serving)
    assert sorted(lossy.asked) == [2, 5]  # the device asked for exactly what it missed
    expected = dict.fromkeys(range(7), 1)
    expected.update({2: 2, 5: 2})  # once on the group topic for all 50, once more for the device that lost them
    assert dict(pusher.sent_chunks) == expected
