"""One simulated device: the real device-side code with a fake interpreter.

One MQTT connection per device, as on a real one: the real `Uplink` (outbox, `MqttTransport` with its own client
id, retained ``online`` status and ``offline`` Last Will) carries results out, and the same link carries model
pushes in to the real `ModelInbox` and `ModelReceiver` (signature, version, size, chunks, SHA-256). Only loading
is fake: `FakeInstaller` "loads" a model in a set time and fails the canary when told to.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cloud_sync._compat import TaskGroup
from cloud_sync.config import CloudConfig, MqttConfig, OutboxConfig
from cloud_sync.envelope import Envelope
from cloud_sync.models.config import ModelUpdatesConfig
from cloud_sync.models.inbox import ModelInbox, Report
from cloud_sync.models.keys import TrustedKeys
from cloud_sync.models.manifest import Manifest
from cloud_sync.models.receiver import ModelReceiver
from cloud_sync.models.store import ModelStore, StoredModel
from cloud_sync.models.wire import push_topics
from cloud_sync.mqtt import MqttTransport
from cloud_sync.uplink import Uplink


@dataclass(frozen=True)
class AgentSpec:
    """What every simulated device shares."""

    mqtt: MqttConfig
    workdir: Path
    keys: TrustedKeys
    prefix: str = "edge"
    groups: tuple[str, ...] = ()
    rate: float = 1.0  # results per second; 0: none
    load_s: float = 0.2  # how long the fake interpreter takes to load a model
    base: tuple[tuple[str, int], ...] = (("faces", 1),)  # models served from the start: (name, version)


class FakeInstaller:
    """Serves `base` models from the start; a pushed version "loads" in `load_s`, then fails its canary when
    `fails`, else becomes active (the previous one is kept for a rollback)."""

    def __init__(self, store: ModelStore, base: dict[str, int], load_s: float, fails: bool) -> None:
        self.store = store
        self.load_s = load_s
        self.fails = fails
        self.serving: dict[str, tuple[int, str]] = {name: (v, "0" * 64) for name, v in base.items()}
        self.previous: dict[str, tuple[int, str]] = {}
        self.installs = 0  # manifests that reached loading (a resumed rollout must not repeat finished ones)

    def inventory(self) -> dict[str, dict[str, Any]]:
        return {name: {"version": v, "sha256": sha, "previous": self.previous.get(name, (None,))[0]}
                for name, (v, sha) in self.serving.items()}

    async def install(self, model: StoredModel, manifest: Manifest, report: Report) -> None:
        self.installs += 1
        active = self.serving.get(model.name, (0, ""))
        if (model.version, model.sha256) == active:  # an earlier push of this version finished meanwhile
            self.store.discard(model)
            await report("active", "already serving this version")
            return
        if manifest.version <= active[0] and not manifest.rollback:
            await report("rejected", f"version {manifest.version} is not newer than the active one")
            return
        await asyncio.sleep(self.load_s)
        if self.fails:
            self.store.discard(model)
            await report("rejected", "canary: simulated failure")
            return
        await report("canary", median_ms=1.0)
        self.previous[model.name], self.serving[model.name] = active, (model.version, model.sha256)
        await report("active")

    async def rollback(self, manifest: Manifest, report: Report) -> None:
        previous = self.previous.pop(manifest.name, None)
        if previous is None:
            await report("rejected", "no previous version to roll back to (kept: none)")
            return
        self.serving[manifest.name] = previous
        await report("rolled_back", "requested", restored_version=previous[0])


class Agent:
    """Device `name`: `run()` until cancelled."""

    def __init__(self, spec: AgentSpec, name: str, *, fails: bool = False) -> None:
        self.name = name
        self.spec = spec
        home = spec.workdir / name
        cloud = CloudConfig(mqtt=spec.mqtt.model_copy(update={"client_id": f"edge-{name}"}),
                            outbox=OutboxConfig(path=home / "outbox.db"), topic_prefix=spec.prefix)
        self.uplink = Uplink(cloud, name)
        store = ModelStore(home / "models")
        self.installer = FakeInstaller(store, dict(spec.base), spec.load_s, fails)
        receiver = ModelReceiver(name, config=ModelUpdatesConfig(dir=store.root, groups=list(spec.groups)),
                                 keys=TrustedKeys(spec.keys.keys()),  # its own: key updates change it
                                 store=store, inventory=self.installer.inventory)
        transport = self.uplink.transport
        assert isinstance(transport, MqttTransport)
        self.link: MqttTransport = transport
        self.inbox = ModelInbox(self.link, receiver, self.installer, push_topics(spec.prefix, name, spec.groups))
        self.boot_id = f"{name}-{time.time_ns():x}"
        self.sent = 0
        self._producing: asyncio.Task[None] | None = None

    async def wait_connected(self, timeout: float) -> bool:
        return await self.link.connected_within(timeout)

    async def run(self, phase: float = 0.0) -> None:
        async with TaskGroup() as group:
            group.create_task(self.uplink.run(), name=f"{self.name}:uplink")  # runs the link too
            group.create_task(self.inbox.run(), name=f"{self.name}:models")
            if self.spec.rate > 0:
                self._producing = group.create_task(self._results(phase), name=f"{self.name}:results")

    def stop_results(self) -> None:
        """Stop producing results (the uplink goes on delivering what it holds)."""
        if self._producing is not None:
            self._producing.cancel()

    async def _results(self, phase: float) -> None:
        period = 1.0 / self.spec.rate
        await asyncio.sleep(phase * period)
        start = time.monotonic()
        while True:
            self.uplink.put(self.envelope())
            self.sent += 1
            await asyncio.sleep(max(start + self.sent * period - time.monotonic(), 0.0))

    def envelope(self) -> Envelope:
        now = time.time()
        return {"device": self.name, "stream": "sim", "seq": self.sent, "boot_id": self.boot_id,
                "ts_capture": now, "ts_result": now, "kind": "detections",
                "payload": {"detections": [{"label": "face", "score": 0.9, "box": [0.1, 0.1, 0.2, 0.2]}]}}
