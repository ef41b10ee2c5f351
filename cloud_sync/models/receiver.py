"""The device side of the protocol as a pure state machine: messages in, actions out (no I/O but the store).

`feed(payload)` takes one message from a push topic; `tick()` handles timeouts. Both return actions: `Send`
(a status or need message for the cloud), `Assembled` (every chunk is in the staging file: check it, then load it)
and `Rollback` (a signed request to go back). Checks run in this order, and a refusal is reported with its reason:
signature, then name / target / version / size, then the chunks, then (`check_assembled`) the SHA-256.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cloud_sync.models import key_updates
from cloud_sync.models._transfer import Transfer
from cloud_sync.models.config import ModelUpdatesConfig
from cloud_sync.models.keys import TrustedKeys
from cloud_sync.models.manifest import Manifest, ManifestError, claimed_push_id, verify_manifest
from cloud_sync.models.store import ModelStore
from cloud_sync.models.wire import NEED, QUERY, STATUS, Chunk, WireError, need_message, parse_push, status_message

log = logging.getLogger("cloud_sync.models")
Inventory = Callable[[], dict[str, dict[str, Any]]]  # model name -> {"version": int, "sha256": str, ...} in service
_REMEMBER = 64  # finished pushes whose outcome is re-sent when their manifest comes again
LISTEN_FACTOR = 4  # a broadcast push: pull what is missing after LISTEN_FACTOR x need_timeout without a chunk


@dataclass(frozen=True, slots=True)
class Send:
    suffix: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Assembled:
    manifest: Manifest
    transfer: Transfer


@dataclass(frozen=True, slots=True)
class Rollback:
    manifest: Manifest


@dataclass(frozen=True, slots=True)
class Join:
    """Listen on `topic` (a verified manifest's channel): the chunks of its push come once there."""

    topic: str


Action = Send | Assembled | Rollback | Join


class ModelReceiver:
    def __init__(
        self,
        device: str,
        *,
        config: ModelUpdatesConfig,
        keys: TrustedKeys,
        store: ModelStore,
        inventory: Inventory,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.device = device
        self.config = config
        self.keys = keys
        self.store = store
        self.inventory = inventory
        self.clock = clock
        self.transfers: dict[str, Transfer] = {}  # by model name: one transfer per model at a time
        self.finished: OrderedDict[str, bytes] = OrderedDict()  # push id -> its final status message
        self.handed: set[str] = set()  # push ids being installed or rolled back (a repeated manifest is ignored)
        self.listening: set[str] = set()  # group pushes whose chunks come by broadcast: ask only once it stops
        self.counts: dict[str, int] = {"malformed": 0, "stray_chunks": 0, "duplicates": 0}
        try:
            key_updates.restore(keys, store.root)
        except (ManifestError, ValueError) as exc:
            log.error("trusted key updates not applied, using the configured keys: %s", exc)

    def status(self, manifest: Manifest | None, state: str, reason: str | None = None, **fields: Any) -> Send:
        """A status message for `manifest`; a final one is remembered and repeated if the manifest comes again."""
        ids: dict[str, Any] = {}
        if manifest is not None:
            ids = {"push_id": manifest.push_id, "name": manifest.name, "version": manifest.version}
            ids["sha256"] = manifest.sha256 or None
        payload = status_message(self.device, state, reason=reason, **ids, **fields)
        if manifest is not None and state in ("active", "rejected", "rolled_back"):
            self.finished[manifest.push_id] = payload
            self.handed.discard(manifest.push_id)
            while len(self.finished) > _REMEMBER:
                self.finished.popitem(last=False)
        return Send(STATUS, payload)

    def feed(self, payload: bytes) -> list[Action]:
        try:
            message = parse_push(payload)
        except WireError as exc:
            self.counts["malformed"] += 1
            return [self.status(None, "rejected", str(exc))]
        if isinstance(message, Chunk):
            return self._chunk(message)
        if message is QUERY:
            return [self.status(None, "inventory", models=self.inventory())]
        try:
            manifest = verify_manifest(message, self.keys)
        except ManifestError as exc:
            log.warning("model push refused: %s", exc)
            # The push id is only claimed: marked so that the cloud does not let it end a real push.
            claimed = claimed_push_id(message)
            return [self.status(None, "rejected", str(exc), push_id=claimed, unverified=True)]
        return self._manifest(manifest)

    def tick(self) -> list[Action]:
        now, actions = self.clock(), list[Action]()
        listen = LISTEN_FACTOR * self.config.need_timeout
        for transfer in list(self.transfers.values()):
            if now - transfer.last_progress > self.config.transfer_timeout:
                have, total = len(transfer.have), transfer.manifest.chunks
                actions.append(self._drop(transfer, f"transfer timed out: {have} of {total} chunks"))
            elif transfer.push_id in self.listening and now - transfer.last_heard > listen:
                self.listening.discard(transfer.push_id)  # the broadcast is over: pull what it did not bring
                actions += self._need(transfer)
            elif transfer.asked and now - transfer.last_heard > transfer.backoff(self.config.need_timeout):
                actions += self._need(transfer, again=True)
        return actions

    def _manifest(self, manifest: Manifest) -> list[Action]:
        done = self.finished.get(manifest.push_id)
        if done is not None:
            return [Send(STATUS, done)]
        if manifest.push_id in self.handed:
            return []
        if manifest.expired(time.time()):
            log.warning("model push %s refused: expired", manifest.label)
            return [self.status(manifest, "rejected", f"manifest expired at {manifest.expires_at:.0f}")]
        if manifest.action == "keys":
            return self._keys(manifest)
        current = self.transfers.get(manifest.name)
        if current is not None and current.push_id == manifest.push_id:  # sent again: the link may have dropped
            stalled = self.clock() - current.last_heard > self.config.need_timeout
            return self._need(current, again=True) if stalled else []
        actions: list[Action] = [self.status(manifest, "received")]
        try:
            self._admit(manifest)
        except ManifestError as exc:
            if self._serving(manifest):  # a resumed rollout: this device took the version from an earlier push
                return [*actions, self.status(manifest, "active", "already serving this version")]
            log.warning("model push %s refused: %s", manifest.label, exc)
            return [*actions, self.status(manifest, "rejected", str(exc))]
        if manifest.channel is not None:
            actions.append(Join(manifest.channel))  # before "verified": the cloud broadcasts once all said it
        actions.append(self.status(manifest, "verified"))
        if manifest.action == "rollback":
            self.handed.add(manifest.push_id)
            return [*actions, Rollback(manifest)]
        if current is not None:
            actions.append(self._drop(current, f"superseded by push {manifest.push_id}"))
        transfer = Transfer(manifest, self.store.staging_path(manifest.name, manifest.push_id),
                            self.config.window, self.clock())  # fmt: skip
        self.transfers[manifest.name] = transfer
        if (manifest.target.group is not None or manifest.channel is not None) and manifest.chunks:
            self.listening.add(manifest.push_id)  # the pusher broadcasts the chunks on the group topic or channel
            return actions
        return actions + self._progress(transfer)

    def _keys(self, manifest: Manifest) -> list[Action]:
        """A verified key update: apply it (fleet-wide key rotation) or refuse it with the reason."""
        try:
            if not manifest.target.includes(self.device, tuple(self.config.groups)):
                raise ManifestError(f"manifest for another device ({_describe(manifest)})")
            summary = key_updates.apply(self.keys, manifest, self.store.root)
        except ManifestError as exc:
            log.warning("key update refused: %s", exc)
            return [self.status(manifest, "rejected", str(exc))]
        log.warning("key update applied: %s", summary)
        return [self.status(manifest, "active", summary)]

    def _admit(self, manifest: Manifest) -> None:
        """Everything that can be decided from the signed manifest, before a byte of the model is fetched."""
        if not manifest.target.includes(self.device, tuple(self.config.groups)):
            raise ManifestError(f"manifest for another device ({_describe(manifest)})")
        entry = self.inventory().get(manifest.name)
        if entry is None:
            raise ManifestError(f"no model named {manifest.name!r} on this device")
        active = int(entry["version"])
        if manifest.created_at <= self.store.updated_at(manifest.name):
            raise ManifestError("manifest older than the last one applied (replayed?)")
        if manifest.action == "rollback":
            return
        if manifest.version <= active and not manifest.rollback:
            raise ManifestError(f"version {manifest.version} is not newer than the active version {active}")
        if manifest.size > self.config.max_bytes:
            raise ManifestError(f"model too large: {manifest.size} bytes > max_bytes {self.config.max_bytes}")

    def _serving(self, manifest: Manifest) -> bool:
        """A push of the very version (same SHA-256) this device serves now."""
        entry = self.inventory().get(manifest.name) or {}
        return (manifest.action == "push" and manifest.target.includes(self.device, tuple(self.config.groups))
                and entry.get("version") == manifest.version and entry.get("sha256") == manifest.sha256)

    def _chunk(self, chunk: Chunk) -> list[Action]:
        transfer = next((t for t in self.transfers.values() if t.push_id == chunk.push_id), None)
        if transfer is None:
            self.counts["stray_chunks"] += 1
            return []
        try:
            if not transfer.add(chunk.index, chunk.data, self.clock()):
                self.counts["duplicates"] += 1
                return []
        except ManifestError as exc:
            return [self._drop(transfer, str(exc))]
        return self._progress(transfer)

    def _progress(self, transfer: Transfer) -> list[Action]:
        if not transfer.complete:
            return [] if transfer.push_id in self.listening else self._need(transfer)
        self.listening.discard(transfer.push_id)
        transfer.close()
        del self.transfers[transfer.manifest.name]
        self.handed.add(transfer.push_id)
        return [Assembled(transfer.manifest, transfer)]

    def _need(self, transfer: Transfer, *, again: bool = False) -> list[Action]:
        missing = transfer.next_request(again=again)
        if not missing:
            return []
        transfer.last_heard = self.clock()
        body = need_message(self.device, transfer.push_id, missing, len(transfer.have), transfer.manifest.chunks)
        return [Send(NEED, body)]

    def _drop(self, transfer: Transfer, reason: str) -> Send:
        log.warning("model push %s refused: %s", transfer.manifest.label, reason)
        transfer.discard()
        self.listening.discard(transfer.push_id)
        self.transfers.pop(transfer.manifest.name, None)
        return self.status(transfer.manifest, "rejected", reason)


def _describe(manifest: Manifest) -> str:
    target = manifest.target
    return f"group {target.group!r}" if target.group is not None else f"devices {', '.join(target.devices)}"
