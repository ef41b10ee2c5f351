"""Staged rollouts to simulated devices (real device-side receiver, fake interpreter) through a real mosquitto,
state in a real SQLite database."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from cloud_sync.fleet import assign
from cloud_sync.fleet._agent import Agent
from cloud_sync.fleet._plan import RolloutSpec
from cloud_sync.fleet.rollout import Outcome, RolloutRunner
from cloud_sync.ingest import open_store
from cloud_sync.models.keys import load_private_key
from cloud_sync.models.mqtt import MqttCloudLink
from tests.fleet.simulated import MODEL, cloud, fleet
from tests.fleet.support import wait_for
from tests.support.mosquitto import Mosquitto

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]
def rollout(db: str, tmp_path: Path, link: MqttCloudLink, **options: object) -> RolloutRunner:
    import hashlib

    spec = RolloutSpec("porch", "faces", 2, hashlib.sha256(MODEL).hexdigest(), **options)  # type: ignore[arg-type]
    return RolloutRunner(link, open_store(db), spec, MODEL, load_private_key(tmp_path / "fleet.key"),
                         progress=lambda _: None)


def register(db: str, devices: list[Agent]) -> None:
    store = open_store(db)
    assign(store, "porch", [a.name for a in devices])
    store.close()


def test_a_failing_first_wave_aborts_and_rolls_back_the_devices_that_took_it(mosquitto: Mosquitto,
                                                                            tmp_path: Path) -> None:
    db = str(tmp_path / "fleet.db")

    async def scenario() -> tuple[Outcome, list[Agent]]:
        async with fleet(mosquitto, tmp_path, 10, fail=0.2) as devices, cloud(mosquitto) as link:
            register(db, devices)
            outcome = await rollout(db, tmp_path, link, waves=(0.5, 1.0), success=0.9, abort=0.05,
                                    wave_timeout=30.0, rollback_on_abort=True).run()
            return outcome, devices

    outcome, devices = asyncio.run(scenario())
    first, second = devices[:5], devices[5:]
    assert [a.installer.fails for a in devices].count(True) == 2  # 20% of the fleet, one in the first wave
    assert outcome.state == "aborted"
    assert outcome.reason.startswith("wave 1: 20% failed")
    assert (outcome.active, outcome.failed, outcome.rolled_back) == (0, 1, 4)
    assert [a.installer.serving["faces"][0] for a in first] == [1] * 5  # rolled back, or never took v2
    assert all(a.installer.installs == 1 for a in first)
    assert all(a.installer.installs == 0 for a in second)  # the second wave never started


def test_an_interrupted_rollout_resumes_without_pushing_finished_devices_again(mosquitto: Mosquitto,
                                                                             tmp_path: Path) -> None:
    db = str(tmp_path / "fleet.db")

    def finished() -> int:
        store = open_store(db)
        try:
            return int(store.query("SELECT count(*) FROM rollout_devices WHERE state = 'active'")[0][0])
        finally:
            store.close()

    async def scenario() -> tuple[Outcome, list[Agent], int]:
        async with fleet(mosquitto, tmp_path, 6, fail=0.0, load_s=1.0) as devices, cloud(mosquitto) as link:
            register(db, devices)
            options = {"waves": (0.5, 1.0), "success": 1.0, "abort": 0.0, "wave_timeout": 30.0}
            first = asyncio.create_task(rollout(db, tmp_path, link, **options).run())
            await asyncio.to_thread(wait_for, lambda: finished() >= 3, 30, "first wave never finished")
            first.cancel()  # interrupted during the second wave (loading takes a second)
            await asyncio.gather(first, return_exceptions=True)
            at_interrupt = await asyncio.to_thread(finished)
            return await rollout(db, tmp_path, link, **options).run(), devices, at_interrupt

    outcome, devices, at_interrupt = asyncio.run(scenario())
    assert at_interrupt == 3
    assert (outcome.state, outcome.active) == ("done", 6)
    assert [a.installer.installs for a in devices[:3]] == [1, 1, 1]  # finished in the first run: not pushed again
    assert [a.installer.serving["faces"][0] for a in devices] == [2] * 6
