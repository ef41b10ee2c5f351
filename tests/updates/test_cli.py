"""`edge-cloud keys generate`, `models push`, `models status` and `models rollback` as a user runs them."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.support.mosquitto import Mosquitto
from tests.updates.support import DEVICE, MODELS, Cloud, Device
from tests.updates.test_mqtt_push import links

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]
CLI = [sys.executable, "-m", "cloud_sync"]


async def run(*args: str) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        *CLI, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode or 0, out.decode()


def test_cli_generates_keys_pushes_asks_and_rolls_back(tmp_path: Path, mosquitto: Mosquitto) -> None:
    cloud = Cloud(tmp_path)

    async def scenario() -> None:
        code, out = await run("keys", "generate", str(tmp_path / "ops"))
        assert code == 0, out
        assert "key id" in out
        code, out = await run("keys", "generate", str(tmp_path / "ops"))
        assert code == 2, out
        assert "already exists" in out
        broker = f"127.0.0.1:{mosquitto.port}"
        key = str(tmp_path / "ops.key")
        async with links(mosquitto) as (device_link, _):
            device = Device(tmp_path, cloud, device_link, trusted_keys=[tmp_path / "ops.pub"])
            async with device.running(stream=False):
                args = ["--device", DEVICE, "--name", "digits", "--key", key, "--mqtt", broker, "--timeout", "20"]
                code, out = await run("models", "push", *args, "--version", "2", str(MODELS / "test_alt.tflite"))
                assert code == 0, out
                assert out.splitlines()[-1] == f"{DEVICE} digits v2: active"
                code, out = await run("models", "status", "--device", DEVICE, "--mqtt", broker)
                assert code == 0, out
                assert f"{DEVICE} digits: v2" in out
                assert "(previous: v1)" in out
                code, out = await run("models", "rollback", *args)
                assert code == 0, out
                assert "rolled_back: requested" in out
                code, out = await run("models", "push", *args, "--version", "1", str(MODELS / "test_alt.tflite"))
                assert code == 1, out
                assert "rejected: version 1 is not newer" in out
        assert device.service.model("digits").ref.version == 1

    asyncio.run(scenario())
