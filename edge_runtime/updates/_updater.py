"""The device side of model updates, wired to the runtime: from a staged file to the model in service.

`ModelUpdater.run()` (owned by the runtime's task group) runs the receiver loop (`cloud_sync.models.ModelInbox`)
and installs what it stages, one at a time: load check with the pipeline's decoder, canary on recent frames,
atomic swap in the accelerator service (jobs on a lane finish on the old runner), the active pointer persisted,
then a health watch that rolls back by itself past its limits. The previous version stays loaded for that.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cloud_sync.models import (
    DeviceLink,
    Manifest,
    ModelInbox,
    ModelReceiver,
    ModelStore,
    ModelUpdatesConfig,
    Report,
    StoredModel,
    TrustedKeys,
)
from cloud_sync.models._threads import in_thread
from cloud_sync.models.wire import push_topics
from edge_runtime._compat import TaskGroup
from edge_runtime.inference import ModelConfig
from edge_runtime.jobs import ModelHandle
from edge_runtime.plan import RuntimePlan
from edge_runtime.scheduler import AcceleratorService
from edge_runtime.sections import AcceleratorConfig
from edge_runtime.updates._checks import CanaryResult, UpdateRejected, canary, load_checked
from edge_runtime.updates._frames import RecentFrames
from edge_runtime.updates._health import HealthMonitor, WatchedHandle
from edge_runtime.updates._history import UpdateHistory
from edge_runtime.updates._watch import watch

log = logging.getLogger("edge_runtime.updates")


class ModelUpdater:
    def __init__(
        self,
        *,
        service: AcceleratorService,
        models: Mapping[str, ModelConfig],
        accel: AcceleratorConfig,
        base_dir: Path,
        config: ModelUpdatesConfig,
        frames: RecentFrames,
        link: DeviceLink,
        device: str,
        prefix: str = "edge",
        keys: TrustedKeys | None = None,
        budget: RuntimePlan | None = None,
    ) -> None:
        self.service = service
        self.models = dict(models)
        self.accel = accel
        self.base_dir = base_dir
        self.config = config
        self.frames = frames
        self.budget = budget  # the runtime's plan: a pushed model must keep every stream using it within budget
        self.store = ModelStore(base_dir / config.dir)
        keys = keys if keys is not None else TrustedKeys.load(base_dir / p for p in config.trusted_keys)
        self.receiver = ModelReceiver(device, config=config, keys=keys, store=self.store, inventory=self.inventory)
        self.inbox = ModelInbox(link, self.receiver, self, push_topics(prefix, device, config.groups))
        self.history = UpdateHistory()  # received / verified / active / rejected / rolled_back, for the console
        self.inbox.observers.append(self.history.record)
        self.previous: dict[str, tuple[StoredModel, ModelHandle]] = {}  # kept loaded for a rollback
        self._watches: dict[str, asyncio.Task[None]] = {}
        self._group: TaskGroup | None = None

    async def run(self) -> None:
        async with TaskGroup() as group:
            self._group = group
            group.create_task(self.inbox.run(), name="models:inbox")

    def inventory(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for name in self.models:
            ref = self.service.model(name).ref
            previous = self.previous.get(name)
            out[name] = {"version": ref.version, "sha256": ref.sha256,
                         "previous": previous[0].version if previous else None}  # fmt: skip
        return out

    async def install(self, model: StoredModel, manifest: Manifest, report: Report) -> None:
        name = model.name
        active = self.service.model(name)
        if (model.version, model.sha256) == (active.ref.version, active.ref.sha256):
            # An earlier push of this very version was installed while this one was on its way (a resumed
            # rollout): the device serves what the cloud asked for, so say so instead of refusing it.
            log.info("model %r v%d: already serving this version", name, model.version)
            self.store.discard(model)
            await report("active", "already serving this version")
            return
        if manifest.version <= active.ref.version and not manifest.rollback:
            await self._reject(model, report, f"version {manifest.version} is not newer than the active one")
            return
        try:
            handle = await in_thread(f"models:load:{name}", lambda: load_checked(
                model, self.models[name], self.accel, self.base_dir, active))  # fmt: skip
            result = await in_thread(f"models:canary:{name}", lambda: canary(
                handle, active, self.frames.get(name), self.config.canary, self.budget))  # fmt: skip
        except UpdateRejected as exc:
            await self._reject(model, report, str(exc))
            return
        await report("canary", **result.figures())
        self._swap(name, model, WatchedHandle(handle, monitor := HealthMonitor(self.config.health.window)), manifest)
        await report("active")
        log.info("model %r: v%d (%s) active", name, model.version, model.sha256[:12])
        self._start_watch(name, monitor, result, manifest, report)

    async def rollback(self, manifest: Manifest, report: Report) -> None:
        name = manifest.name
        kept = self.previous.get(name)
        if kept is None or (manifest.version and manifest.version != kept[0].version):
            have = f"v{kept[0].version}" if kept else "none"
            await report("rejected", f"no previous version to roll back to (kept: {have})")
            return
        self._roll_back(name, manifest.created_at)
        await report("rolled_back", "requested", restored_version=kept[0].version, restored_sha256=kept[0].sha256)

    def _swap(self, name: str, model: StoredModel, handle: ModelHandle, manifest: Manifest) -> None:
        old_handle = self.service.model(name)
        old = self._current(name, old_handle)
        self.service.set_model(name, handle)  # jobs on a lane finish on the old runner; the next use the new
        self.store.activate(model, old, manifest.created_at)
        self.previous[name] = (old, old_handle)

    def _roll_back(self, name: str, updated_at: float) -> StoredModel:
        watch_task = self._watches.pop(name, None)
        if watch_task is not None and watch_task is not asyncio.current_task():
            watch_task.cancel()
        old, old_handle = self.previous.pop(name)
        self.service.set_model(name, old_handle)
        self.store.activate(old, None, updated_at)
        log.warning("model %r: rolled back to v%d (%s)", name, old.version, old.sha256[:12])
        return old

    def _current(self, name: str, handle: ModelHandle) -> StoredModel:
        """The serving version as a store entry (the configured file when it never came from a push)."""
        active = self.store.active(name)
        if active is not None and active.sha256 == handle.ref.sha256:
            return active
        path = Path(self.models[name].path)
        return StoredModel(name, handle.ref.version, handle.ref.sha256, (self.base_dir / path).resolve())

    def _start_watch(
        self, name: str, monitor: HealthMonitor, canary_result: CanaryResult, manifest: Manifest, report: Report
    ) -> None:
        if self.config.health.duration <= 0 or self._group is None:
            return
        previous = self._watches.pop(name, None)
        if previous is not None:
            previous.cancel()

        async def watched() -> None:
            reason = await watch(monitor, canary_result.baseline_s, self.config.health, self.config.canary)
            if reason is not None and self._watches.get(name) is asyncio.current_task():
                old = self._roll_back(name, manifest.created_at)
                await report("rolled_back", reason, restored_version=old.version, restored_sha256=old.sha256)
            self._watches.pop(name, None)

        self._watches[name] = self._group.create_task(watched(), name=f"models:watch:{name}")

    async def _reject(self, model: StoredModel, report: Report, reason: str) -> None:
        log.warning("model %r v%d refused: %s", model.name, model.version, reason)
        self.store.discard(model)
        await report("rejected", reason)
