"""Rollout waves over the group transfer (each chunk once on the wave's channel) and devices that were offline
taking the version when they come back (real mosquitto, real ingest worker feeding the registry, real SQLite)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cloud_sync.fleet import assign, devices
from cloud_sync.fleet._agent import Agent, AgentSpec
from cloud_sync.fleet._plan import RolloutSpec
from cloud_sync.fleet.rollout import Outcome, RolloutRunner
from cloud_sync.ingest import open_store
from cloud_sync.models.keys import load_private_key
from cloud_sync.models.mqtt import MqttCloudLink
from tests.fleet.simulated import MODEL, cloud, fleet
from tests.fleet.support import Worker, wait_for
from tests.support.mosquitto import Mosquitto

pytestmark = [pytest.mark.broker, pytest.mark.timeout(120)]
CHUNKS = 2  # MODEL in 64 KiB chunks


def runner(db: str, tmp_path: Path, link: MqttCloudLink, **options: object) -> RolloutRunner:
    spec = RolloutSpec("porch", "faces", 2, hashlib.sha256(MODEL).hexdigest(), **options)  # type: ignore[arg-type]
    return RolloutRunner(link, open_store(db), spec, MODEL, load_private_key(tmp_path / "fleet.key"),
                         progress=lambda _: None)


def registry(db: str) -> dict[str, bool | None]:
    store = open_store(db)
    try:
        return {d.device: d.online for d in devices(store)}
    finally:
        store.close()


def final_states(db: str) -> dict[str, str]:
    store = open_store(db)
    try:
        return {str(d): str(s) for d, s in store.query("SELECT device, state FROM rollout_devices")}
    finally:
        store.close()


@contextlib.asynccontextmanager
async def running(agent: Agent) -> AsyncIterator[Agent]:
    task = asyncio.create_task(agent.run())
    try:
        assert await agent.wait_connected(20)
        yield agent
    finally:
        task.cancel()  # a clean stop: the link publishes its retained "offline"
        await asyncio.gather(task, return_exceptions=True)


def test_each_wave_sends_each_chunk_once_on_its_channel(mosquitto: Mosquitto, tmp_path: Path) -> None:
    db = str(tmp_path / "fleet.db")

    async def scenario() -> tuple[Outcome, int, list[Agent]]:
        async with fleet(mosquitto, tmp_path, 10, fail=0.0) as agents, cloud(mosquitto) as link:
            store = open_store(db)
            assign(store, "porch", [a.name for a in agents])
            store.close()
            run = runner(db, tmp_path, link, waves=(0.2, 1.0), success=1.0, abort=0.0, wave_timeout=30.0)
            outcome = await run.run()
            return outcome, run.chunks_sent, agents

    outcome, chunks_sent, agents = asyncio.run(scenario())
    assert (outcome.state, outcome.active) == ("done", 10)
    assert [a.installer.serving["faces"][0] for a in agents] == [2] * 10
    # Pulled per device it would be 10 x 2 chunks; broadcast it is 2 per wave (plus what a late joiner pulled).
    assert 2 * CHUNKS <= chunks_sent < 10 * CHUNKS / 2


def test_a_device_offline_during_the_rollout_takes_the_version_when_it_returns(mosquitto: Mosquitto,
                                                                             tmp_path: Path) -> None:
    db = str(tmp_path / "fleet.db")

    async def scenario() -> tuple[Outcome, Agent, dict[str, str]]:
        async with fleet(mosquitto, tmp_path, 3, fail=0.0) as agents, cloud(mosquitto) as link:
            spec: AgentSpec = agents[0].spec
            async with running(Agent(spec, "late")):
                pass  # it was online once and then went away: the registry holds it offline
            worker = await asyncio.to_thread(Worker(tmp_path, mosquitto.port, db, "ingest-1").start)
            try:
                names = [a.name for a in agents] + ["late"]
                await asyncio.to_thread(wait_for, lambda: registry(db) == {n: n != "late" for n in names}, 30,
                                        "the registry never saw the fleet")
                store = open_store(db)
                assign(store, "porch", names)
                store.close()
                rollout = asyncio.create_task(runner(db, tmp_path, link, waves=(0.5, 1.0), success=1.0, abort=0.0,
                                                     wave_timeout=30.0, await_offline=60.0).run())
                await asyncio.to_thread(wait_for, lambda: list(final_states(db).values()).count("active") == 3, 60,
                                        "the online devices never finished")
                before = final_states(db)
                async with running(Agent(spec, "late")) as late:  # back online: the rollout pushes to it
                    outcome = await asyncio.wait_for(rollout, 60)
            finally:
                await asyncio.to_thread(worker.stop)
            return outcome, late, before

    outcome, late, before = asyncio.run(scenario())
    assert before["late"] == "pending"
    assert (outcome.state, outcome.active) == ("done", 4)
    assert late.installer.serving["faces"][0] == 2
