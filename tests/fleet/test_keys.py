"""Keys over time on simulated devices through a real mosquitto: expired manifests are refused, a signed key
update retires a key fleet-wide (its pushes are then refused), an update signed by an untrusted key changes
nothing."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cloud_sync.fleet._agent import Agent
from cloud_sync.models.key_updates import KEYS_FILE
from cloud_sync.models.keys import generate_keys, key_id, load_private_key, load_public_key, public_pem
from cloud_sync.models.manifest import Manifest, Target, key_update, make_manifest, sign_manifest
from cloud_sync.models.mqtt import MqttCloudLink
from cloud_sync.models.pusher import ModelPusher
from tests.fleet.simulated import MODEL, cloud, fleet
from tests.support.mosquitto import Mosquitto

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]
Results = dict[str, dict[str, Any]]


async def send(link: MqttCloudLink, manifest: Manifest, key: Ed25519PrivateKey, data: bytes = b"") -> Results:
    pusher = ModelPusher(link, retry=0.5)
    return await pusher.push(sign_manifest(manifest, key), manifest, data, timeout=20)


def states(results: Results) -> set[tuple[str, str]]:
    return {(body["state"], body.get("reason") or "") for body in results.values()}


def test_expiry_rotation_and_untrusted_key_updates(mosquitto: Mosquitto, tmp_path: Path) -> None:
    everyone = Target(devices=("sim-0000", "sim-0001", "sim-0002"))

    async def scenario() -> tuple[list[Results], list[Agent]]:
        async with fleet(mosquitto, tmp_path, 3, fail=0.0) as devices, cloud(mosquitto) as link:
            fleet_key = load_private_key(tmp_path / "fleet.key")
            next_key = load_private_key(generate_keys(tmp_path / "next")[0])
            rogue = load_private_key(generate_keys(tmp_path / "rogue")[0])
            untrusted = key_update((public_pem(rogue.public_key()),), (key_id(fleet_key.public_key()),), everyone)
            rotation = key_update((public_pem(load_public_key(tmp_path / "next.pub")),),
                                  (key_id(fleet_key.public_key()),), everyone)
            return [
                await send(link, make_manifest("faces", 2, MODEL, everyone, expires_in=-1.0), fleet_key, MODEL),
                await send(link, untrusted, rogue),
                await send(link, rotation, fleet_key),
                await send(link, make_manifest("faces", 2, MODEL, everyone), fleet_key, MODEL),
                await send(link, make_manifest("faces", 2, MODEL, everyone), next_key, MODEL),
            ], devices

    (expired, untrusted, rotated, retired, renewed), devices = asyncio.run(scenario())
    assert len(expired) == 3
    assert {state for state, _ in states(expired)} == {"rejected"}
    assert all(reason.startswith("manifest expired at") for _, reason in states(expired))
    assert len(untrusted) == 3
    assert all(state == "rejected" and reason.startswith("unknown key") for state, reason in states(untrusted))
    assert len(rotated) == 3
    assert {state for state, _ in states(rotated)} == {"active"}, rotated
    assert len(retired) == 3
    assert all(state == "rejected" and reason.startswith("unknown key") for state, reason in states(retired))
    assert {state for state, _ in states(renewed)} == {"active"}
    assert len(renewed) == 3
    next_id = key_id(load_public_key(tmp_path / "next.pub"))
    for agent in devices:
        assert agent.inbox.receiver.keys.ids() == [next_id]  # the rogue's update changed nothing, rotation did
        assert (agent.installer.store.root / KEYS_FILE).is_file()
        assert agent.installer.serving["faces"][0] == 2
