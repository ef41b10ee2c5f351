"""Staged rollouts: a model version to a group in waves, each wave from the registry (online devices first),
the next one only when the current one reached `active` at the success ratio; past the failure threshold the
rollout stops and, if asked, sends a signed rollback to the devices that took the new version.

A wave's chunks cross the broker once: its manifest names a channel (``<prefix>/rollouts/<id>/<push id>``) that
the wave's devices join (see `ModelPusher`). Devices the registry says are offline are deferred: left out of a
wave's push and of its verdict, pushed with the next wave once they are back, and after the last wave for up to
`await_offline` seconds (the registry is read again every `RETURN_POLL_S`). Running a finished rollout again
pushes to those of its devices that have come back since.

Each device's final state is written to the database as it arrives (one database thread), so an interrupted
rollout, run again with the same arguments, resumes: devices already final are not pushed again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from cloud_sync.fleet._plan import FAILED, FINAL, Rollout, RolloutSpec, load_or_create, record_device, record_wave
from cloud_sync.fleet.registry import devices
from cloud_sync.ingest import Store
from cloud_sync.models.links import CloudLink
from cloud_sync.models.manifest import Manifest, Target, make_manifest, rollback_command, sign_manifest
from cloud_sync.models.pusher import ModelPusher

log = logging.getLogger("cloud_sync.rollout")
Progress = Callable[[str], None]
RETURN_POLL_S = 1.0


@dataclass(frozen=True)
class Outcome:
    state: str  # done | aborted
    reason: str
    active: int
    failed: int
    rolled_back: int


class RolloutRunner:
    """Runs `spec` over `link`, keeping its state in `store` (used only from one database thread)."""

    def __init__(self, link: CloudLink, store: Store, spec: RolloutSpec, data: bytes, key: Ed25519PrivateKey,
                 *, progress: Progress = print) -> None:
        self.link = link
        self.store = store
        self.spec = spec
        self.data = data
        self.key = key
        self.progress = progress
        self._db = ThreadPoolExecutor(1, thread_name_prefix="rollout-db")
        self._writes: list[Future[None]] = []
        self.chunks_sent = 0  # over every push (a wave's chunks once on its channel, plus what devices pulled)
        self.chunks_reasked = 0  # copies beyond the first of a push's chunks (served to devices that missed them)
        self.pushes = 0

    async def run(self) -> Outcome:
        try:
            fleet = await self._call(devices, self.store, self.spec.group)
            rollout = await self._call(load_or_create, self.store, self.spec, fleet)
            if not rollout.devices:
                raise ValueError(f"group {self.spec.group!r} has no devices in the registry (edge-cloud fleet assign)")
            if rollout.state == "running":
                await self._waves(rollout)
            if rollout.state == "done":
                await self._returning(rollout)
            return self._outcome(rollout)
        finally:
            await asyncio.gather(*(asyncio.wrap_future(f) for f in self._writes), return_exceptions=True)
            self._db.shutdown(wait=True)

    async def _call(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    async def _waves(self, rollout: Rollout) -> None:
        total = len(self.spec.waves)
        for wave in range(rollout.wave, total):
            members = rollout.members(wave)
            offline = await self._offline()
            todo = [d for d in rollout.pending(wave) if d not in offline]  # earlier waves' returned devices too
            deferred = frozenset(d for d in rollout.pending(wave) if d in offline)
            self.progress(f"wave {wave + 1}/{total}: {len(members)} devices, {len(todo)} to push, "
                          f"{len(deferred)} offline (deferred)")
            if todo:
                await self._push_version(rollout, todo)
            verdict = self._judge(rollout, wave, deferred)
            if verdict:
                await self._abort(rollout, wave, verdict)
                return
            rollout.wave = wave + 1
            await self._call(record_wave, self.store, rollout.id, wave + 1, "running" if wave + 1 < total else "done")
        rollout.state = "done"

    async def _returning(self, rollout: Rollout) -> None:
        """Push to the deferred devices as the registry sees them come back, for up to `await_offline` s."""
        last = len(self.spec.waves) - 1
        deadline = time.monotonic() + self.spec.await_offline
        while rollout.pending(last) and time.monotonic() < deadline:
            back = [d for d in rollout.pending(last) if d not in await self._offline()]
            if back:
                self.progress(f"{len(back)} devices back online: pushing")
                await self._push_version(rollout, back)
            else:
                await asyncio.sleep(RETURN_POLL_S)
        if rollout.pending(last):
            self.progress(f"{len(rollout.pending(last))} devices not done (run the rollout again to retry them)")

    async def _offline(self) -> set[str]:
        """Devices of the group the registry says are offline (a device never heard from is tried)."""
        fleet = await self._call(devices, self.store, self.spec.group)
        return {d.device for d in fleet if d.online is False}

    async def _push_version(self, rollout: Rollout, todo: list[str]) -> None:
        manifest = make_manifest(self.spec.name, self.spec.version, self.data, Target(devices=tuple(todo)),
                                 channel_under=f"{self.link.prefix}/rollouts/{rollout.id}")
        await self._push(rollout, manifest, self.data)

    def _judge(self, rollout: Rollout, wave: int, deferred: frozenset[str] = frozenset()) -> str:
        """Why the rollout stops after `wave` ("" to go on); deferred (offline) devices do not count."""
        states = rollout.states(wave, deferred)
        if not states:
            self.progress(f"wave {wave + 1}: every device offline (deferred)")
            return ""
        failed = sum(s in FAILED for s in states) / len(states)
        active = sum(s == "active" for s in states) / len(states)
        self.progress(f"wave {wave + 1}: {active:.0%} active, {failed:.0%} failed")
        if failed > self.spec.abort:
            return f"wave {wave + 1}: {failed:.0%} failed (over {self.spec.abort:.0%})"
        if active < self.spec.success:
            return (f"wave {wave + 1}: {active:.0%} active within {self.spec.wave_timeout:g} s "
                    f"(needs {self.spec.success:.0%})")
        return ""

    async def _abort(self, rollout: Rollout, wave: int, reason: str) -> None:
        self.progress(f"rollout aborted: {reason}")
        rollout.state, rollout.reason = "aborted", reason
        await self._call(record_wave, self.store, rollout.id, wave, "aborted", reason)
        took = sorted(d for d, (_, state) in rollout.devices.items() if state == "active")
        if self.spec.rollback_on_abort and took:
            self.progress(f"rolling back {len(took)} devices")
            await self._push(rollout, rollback_command(self.spec.name, Target(devices=tuple(took))), b"")

    async def _push(self, rollout: Rollout, manifest: Manifest, data: bytes) -> None:
        def on_status(body: dict[str, Any]) -> None:
            device, state = str(body.get("device")), body.get("state")
            if state in FINAL and device in rollout.devices:
                rollout.devices[device] = (rollout.devices[device][0], str(state))
                reason = str(body.get("reason") or "")
                self._writes.append(self._db.submit(record_device, self.store, rollout.id, device, str(state), reason))
                self.progress(f"{device}: {state}" + (f" ({reason})" if reason else ""))

        pusher = ModelPusher(self.link, on_status=on_status)
        await pusher.push(sign_manifest(manifest, self.key), manifest, data, timeout=self.spec.wave_timeout)
        self.chunks_sent += sum(pusher.sent_chunks.values())
        self.chunks_reasked += sum(max(n - 1, 0) for n in pusher.sent_chunks.values())
        self.pushes += 1
        await asyncio.gather(*(asyncio.wrap_future(f) for f in self._writes))
        self._writes.clear()

    def _outcome(self, rollout: Rollout) -> Outcome:
        states = [state for _, state in rollout.devices.values()]
        return Outcome(rollout.state, rollout.reason, states.count("active"), states.count("rejected"),
                       states.count("rolled_back"))
