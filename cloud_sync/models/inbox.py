"""The device's model-update loop: link messages into the receiver, its actions out, installs one at a time.

`ModelInbox.run()` is owned by the runtime's task group. What happens after a file is staged (load check,
canary, swap, health watch) is the `Installer`'s job: the runtime provides it (`edge_runtime.updates`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from cloud_sync._compat import TaskGroup
from cloud_sync.inbound import InboundQueue
from cloud_sync.models._threads import in_thread
from cloud_sync.models.links import DeviceLink
from cloud_sync.models.manifest import Manifest, ManifestError
from cloud_sync.models.receiver import Action, Assembled, Join, ModelReceiver, Rollback, Send
from cloud_sync.models.store import StoredModel

log = logging.getLogger("cloud_sync.models")
TICK_S = 0.25


class Report:
    """Reports the states of one push: ``await report("canary", median_ms=1.2)``."""

    def __init__(self, inbox: ModelInbox, manifest: Manifest) -> None:
        self.inbox = inbox
        self.manifest = manifest

    async def __call__(self, state: str, reason: str | None = None, **fields: Any) -> None:
        await self.inbox.send(self.inbox.receiver.status(self.manifest, state, reason, **fields))


class Installer(Protocol):
    async def install(self, model: StoredModel, manifest: Manifest, report: Report) -> None:
        """Load-check, canary, swap and watch `model`; report every state up to active / rejected / rolled_back."""
        ...

    async def rollback(self, manifest: Manifest, report: Report) -> None:
        """Go back to the previous version of `manifest.name`; report rolled_back or rejected."""
        ...


class ModelInbox:
    """Subscribes `link` to `topics` at once; push messages wait in a bounded queue (`inbound_size`, overflow
    counted `inbound_full` in `drops`) for the receiver."""

    def __init__(
        self,
        link: DeviceLink,
        receiver: ModelReceiver,
        installer: Installer,
        topics: Sequence[str],
        *,
        queue: int = 4,
        inbound_size: int = 1024,
    ) -> None:
        self.link = link
        self.receiver = receiver
        self.installer = installer
        self.sent = 0
        self.unsent = 0
        self.observers: list[Callable[[Send], None]] = []  # see every status the device sends (e.g. a history)
        self.inbound = InboundQueue(inbound_size)
        self.drops = self.inbound.drops
        self._work: asyncio.Queue[Assembled | Rollback] = asyncio.Queue(queue)
        self._joined: set[str] = set()
        for topic in topics:
            link.subscribe(topic, self.inbound.put)

    async def run(self) -> None:
        await in_thread("models:clean", self.receiver.store.clean_staging)
        async with TaskGroup() as group:
            group.create_task(self._receive(), name="models:receive")
            group.create_task(self._tick(), name="models:tick")
            group.create_task(self._install(), name="models:install")

    async def send(self, message: Send) -> None:
        for observe in self.observers:
            observe(message)
        if await self.link.send(message.suffix, message.payload):
            self.sent += 1
        else:
            self.unsent += 1

    async def _receive(self) -> None:
        async for message in self.inbound:
            await self._act(self.receiver.feed(message.payload))

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(TICK_S)
            await self._act(self.receiver.tick())

    async def _act(self, actions: Iterable[Action]) -> None:
        for action in actions:
            if isinstance(action, Send):
                await self.send(action)
                continue
            if isinstance(action, Join):
                self._join(action.topic)
                continue
            try:
                self._work.put_nowait(action)
            except asyncio.QueueFull:
                if isinstance(action, Assembled):
                    action.transfer.discard()
                await self.send(self.receiver.status(action.manifest, "rejected", "busy: too many updates queued"))

    def _join(self, topic: str) -> None:
        """Take the messages of a push's channel (once per topic: a link keeps its subscriptions)."""
        if topic not in self._joined:
            self._joined.add(topic)
            self.link.subscribe(topic, self.inbound.put)

    async def _install(self) -> None:
        while True:
            work = await self._work.get()
            report = Report(self, work.manifest)
            try:
                if isinstance(work, Rollback):
                    await self.installer.rollback(work.manifest, report)
                else:
                    await self._staged(work, report)
            except Exception as exc:  # one bad update never stops the loop
                log.exception("model update %s failed", work.manifest.label)
                await report("rejected", f"internal error: {type(exc).__name__}: {exc}")

    async def _staged(self, work: Assembled, report: Report) -> None:
        manifest, part = work.manifest, work.transfer.part
        try:
            await in_thread(f"models:check:{manifest.name}", work.transfer.check)
        except ManifestError as exc:
            work.transfer.discard()
            await report("rejected", str(exc))
            return
        store = self.receiver.store
        model = await in_thread(f"models:keep:{manifest.name}", lambda: store.keep(
            manifest.name, part, manifest.version, manifest.sha256, manifest.model))  # fmt: skip
        await report("staged", path=str(model.path))
        await self.installer.install(model, manifest, report)
