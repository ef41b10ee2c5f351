"""Pushes that must be refused: each with its reason, before the model is loaded where the issue says so, while
the old model keeps serving. Real accelerator service, real models, the in-memory link."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from cloud_sync.models import (
    Manifest,
    ManifestError,
    MemoryHub,
    ModelPusher,
    Target,
    TrustedKeys,
    chunk_message,
    key_id,
    load_private_key,
    manifest_message,
    verify_manifest,
)
from tests.updates.support import DEVICE, DIGITS, MODELS, Cloud, Device, wait_for

pytestmark = pytest.mark.timeout(60)
PRE_LOAD = ["received", "verified", "staged"]  # a refusal after these states never reached the interpreter


def _forge(signed: bytes) -> bytes:
    """Flip one byte of the signed manifest bytes (keeping the signature)."""
    outer = json.loads(signed)
    data = bytearray(base64.b64decode(outer["manifest"]))
    data[data.index(b'"version":2') + 10] = ord("9")
    outer["manifest"] = base64.b64encode(bytes(data)).decode()
    return json.dumps(outer).encode()


Case = Callable[[Cloud], tuple[Manifest, bytes, bytes]]  # -> manifest, signed body, data the cloud serves


def bad_signature(cloud: Cloud) -> tuple[Manifest, bytes, bytes]:
    manifest, data = cloud.manifest(MODELS / "test_alt.tflite", 2)
    return manifest, _forge(cloud.sign(manifest)), data


def unknown_key(cloud: Cloud) -> tuple[Manifest, bytes, bytes]:
    manifest, data = cloud.manifest(MODELS / "test_alt.tflite", 2)
    return manifest, cloud.sign(manifest, cloud.stranger), data


def sha_mismatch(cloud: Cloud) -> tuple[Manifest, bytes, bytes]:
    manifest, data = cloud.manifest(MODELS / "test_alt.tflite", 2, sha256="ab" * 32)
    return manifest, cloud.sign(manifest), data


def truncated(cloud: Cloud) -> tuple[Manifest, bytes, bytes]:
    manifest, data = cloud.manifest(DIGITS, 2, chunk_size=4096)
    return manifest, cloud.sign(manifest), data[: len(data) - 1000]  # the last chunk arrives short


def older(cloud: Cloud) -> tuple[Manifest, bytes, bytes]:
    manifest, data = cloud.manifest(MODELS / "test_alt.tflite", 1)
    return manifest, cloud.sign(manifest), data


def oversize(cloud: Cloud) -> tuple[Manifest, bytes, bytes]:
    manifest, data = cloud.manifest(MODELS / "test_slow.tflite", 2)  # 114 KiB > max_bytes 100 kB below
    return manifest, cloud.sign(manifest), data


def garbage(cloud: Cloud) -> tuple[Manifest, bytes, bytes]:
    path = cloud.tmp / "garbage.tflite"
    path.write_bytes(os.urandom(20_000))
    manifest, data = cloud.manifest(path, 2)
    return manifest, cloud.sign(manifest), data


def path_in_name(cloud: Cloud) -> tuple[Manifest, bytes, bytes]:
    manifest, data = cloud.manifest(MODELS / "test_alt.tflite", 2, name="../digits")
    return manifest, cloud.sign(manifest), data


def wrong_input(cloud: Cloud) -> tuple[Manifest, bytes, bytes]:
    manifest, data = cloud.manifest(MODELS / "test_yolo_v8.tflite", 2)  # [1,64,64,3], not [1,8,8,1]
    return manifest, cloud.sign(manifest), data


def other_device(cloud: Cloud) -> tuple[Manifest, bytes, bytes]:
    manifest, data = cloud.manifest(MODELS / "test_alt.tflite", 2, target=Target(devices=("pi-other",)))
    return manifest, cloud.sign(manifest), data


CASES: list[tuple[Case, str, list[str]]] = [  # case, reason prefix, states before the refusal
    (bad_signature, "bad signature", []),
    (unknown_key, "unknown key", []),
    (sha_mismatch, "sha256 mismatch", ["received", "verified"]),
    (truncated, "truncated transfer", ["received", "verified"]),
    (older, "version 1 is not newer than the active version 1", ["received"]),
    (oversize, "model too large", ["received"]),
    (garbage, "not a TFLite file", ["received", "verified"]),
    (path_in_name, "invalid model name", []),
    (wrong_input, "input shape [1, 64, 64, 3] does not fit the pipeline", PRE_LOAD),
    (other_device, "manifest for another device", ["received"]),
]


@pytest.mark.parametrize(("case", "reason", "before"), CASES, ids=[c[0].__name__ for c in CASES])
def test_refused_with_reason_and_old_model_serving(tmp_path: Path, case: Case, reason: str, before: list[str]) -> None:
    cloud = Cloud(tmp_path)
    hub = MemoryHub()
    statuses: list[dict[str, Any]] = []

    async def scenario() -> None:
        # Every frame must run: a refused push disturbs nothing, however loaded the machine (no frame superseded).
        device = Device(tmp_path, cloud, hub.device(DEVICE), max_bytes="100kB", supersede=False)
        old = device.sha256
        async with device.running():
            manifest, signed, data = case(cloud)
            if case is other_device:  # a misrouted manifest: published on this device's topic all the same
                await hub.cloud().publish(f"edge/{DEVICE}/models/push", manifest_message(signed))
                await wait_for(lambda: device.updater.inbox.sent >= 2, 5, "the refusal")
            else:
                pusher = ModelPusher(hub.cloud(), retry=1.0, on_status=statuses.append)
                final = await pusher.push(signed, manifest, data, timeout=10)
                assert final[DEVICE]["state"] == "rejected", final
                assert final[DEVICE]["reason"].startswith(reason), final[DEVICE]["reason"]
                states = [s["state"] for s in statuses]  # an unverified manifest is refused at each resend
                assert states[: states.index("rejected")] == before
            count = len(device.completed())
            await wait_for(lambda: len(device.completed()) > count + 3, 5, "results after the refusal")
        assert {o.model.sha256 for o in device.completed()} == {old}
        assert device.dropped() == []
        assert list((tmp_path / "store").rglob("*.tflite")) == []  # nothing refused stays on the device

    asyncio.run(scenario())


def test_garbage_message_on_the_push_topic_is_reported_and_ignored(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path)
    hub = MemoryHub()

    async def scenario() -> None:
        device = Device(tmp_path, cloud, hub.device(DEVICE))
        async with device.running(stream=False):
            await hub.cloud().publish(f"edge/{DEVICE}/models/push", os.urandom(300))
            await hub.cloud().publish(f"edge/{DEVICE}/models/push", chunk_message("00" * 16, 0, b"x"))
            await wait_for(lambda: device.updater.inbox.sent >= 1, 5, "the refusal")
            assert device.updater.receiver.counts == {"malformed": 1, "stray_chunks": 1, "duplicates": 0}
            final = await cloud.push(hub.cloud(), MODELS / "test_alt.tflite", 2)  # still takes a good push
            assert final["state"] == "active"

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("model", "updates", "reason"),
    [
        ("test_nan.tflite", {}, "canary: non-finite"),
        ("test_slow.tflite", {"canary": {"latency_factor": 3.0}}, "canary: median run"),  # the optional ratio guard
    ],
)
def test_canary_refuses_nan_and_slow_models_before_the_swap(
    tmp_path: Path, model: str, updates: dict[str, Any], reason: str
) -> None:
    cloud = Cloud(tmp_path)
    hub = MemoryHub()

    async def scenario() -> None:
        device = Device(tmp_path, cloud, hub.device(DEVICE), **updates)
        old = device.sha256
        async with device.running():
            await wait_for(lambda: len(device.completed()) >= 10, 5, "the stream to run")
            final = await cloud.push(hub.cloud(), MODELS / model, 2)
            assert final["state"] == "rejected", final
            assert final["reason"].startswith(reason), final
        assert {o.model.sha256 for o in device.completed()} == {old}

    asyncio.run(scenario())


@pytest.mark.parametrize(("field", "reason"), [("name", "invalid model name"), ("sha256", "sha256 must be 64")])
def test_a_trailing_newline_is_not_part_of_a_valid_name_or_digest(tmp_path: Path, field: str, reason: str) -> None:
    cloud = Cloud(tmp_path)
    manifest, _ = cloud.manifest(MODELS / "test_alt.tflite", 2)
    body = json.loads(manifest.model_dump_json())
    body[field] += "\n"
    data, private = json.dumps(body).encode(), load_private_key(cloud.key)
    signed = {"key": key_id(private.public_key()), "manifest": base64.b64encode(data).decode(),
              "signature": base64.b64encode(private.sign(data)).decode()}  # fmt: skip
    with pytest.raises(ManifestError, match=reason):
        verify_manifest(json.dumps(signed).encode(), TrustedKeys.load([cloud.pub]))
