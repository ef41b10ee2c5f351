"""The cloud side of a push: send the signed manifest, then serve exactly the chunks each device asks for.

The device pulls (``models/need``), so the pusher keeps no per-chunk state: after a link drop the device asks
again for what it lacks and the pusher sends just that. A manifest is sent again to a device that has said
nothing for `retry` seconds (it may have missed it); a device that already finished answers with its outcome.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from cloud_sync.envelope import Inbound, device_topic
from cloud_sync.models.links import CloudLink
from cloud_sync.models.manifest import Manifest
from cloud_sync.models.wire import (
    FINAL_STATES,
    NEED,
    PUSH,
    QUERY,
    STATUS,
    WireError,
    chunk_message,
    device_of,
    group_topic,
    manifest_message,
    parse_json,
)

log = logging.getLogger("cloud_sync.models")
OnStatus = Callable[[dict[str, Any]], None]
GROUP_SETTLE_S = 2.0  # a group push ends when every device heard from is final and none spoke for this long


class ModelPusher:
    def __init__(
        self, link: CloudLink, *, retry: float = 3.0, rate: float | None = None, on_status: OnStatus | None = None
    ) -> None:
        """`retry`: seconds of silence before the manifest is sent again; `rate`: chunks per second at most."""
        self.link = link
        self.retry = retry
        self.rate = rate
        self.on_status = on_status
        self.sent_chunks: Counter[int] = Counter()  # chunk index -> times sent (over every device)
        self.manifests_sent = 0

    async def push(
        self,
        signed: bytes,
        manifest: Manifest,
        data: bytes = b"",
        *,
        timeout: float = 120.0,
        expect: int | None = None,
        watch: float = 0.0,
    ) -> dict[str, dict[str, Any]]:
        """Run one push (or rollback command) to its end; returns each device's last final status.

        Ends when every listed device (or `expect` devices of a group) is final, or at `timeout`; with `watch`,
        listens that much longer after `active` for a rollback by the device's health watch.
        """
        session = _Session(self, signed, manifest, data, expect)
        async with self._messages() as inbox:
            deadline = time.monotonic() + timeout
            await session.send_manifest(None)
            watching = False
            while (left := deadline - time.monotonic()) > 0:
                if session.done():
                    if not watch or all(s.get("state") != "active" for s in session.final.values()):
                        break
                    if not watching:
                        deadline, watching = min(deadline, time.monotonic() + watch), True
                        continue
                try:
                    message = await asyncio.wait_for(inbox.get(), min(left, self.retry / 2))
                except asyncio.TimeoutError:
                    await session.nudge()
                    continue
                await session.handle(message)
        return session.final

    async def query(self, device: str, timeout: float = 5.0) -> dict[str, Any] | None:
        """Ask a device which models it serves (the `inventory` status), None when it does not answer."""
        async with self._messages() as inbox:
            await self.link.publish(device_topic(self.link.prefix, device, PUSH), QUERY)
            deadline = time.monotonic() + timeout
            while (left := deadline - time.monotonic()) > 0:
                try:
                    message = await asyncio.wait_for(inbox.get(), left)
                except asyncio.TimeoutError:
                    break
                body = _body(message)
                if body is not None and body.get("state") == "inventory" and body.get("device") == device:
                    return body
        return None

    @contextlib.asynccontextmanager
    async def _messages(self) -> Any:
        queue: asyncio.Queue[Inbound] = asyncio.Queue(4096)

        async def pump() -> None:
            async for message in self.link.inbound():
                if queue.full():
                    queue.get_nowait()  # oldest first; the device asks again
                queue.put_nowait(message)

        task = asyncio.create_task(pump(), name="models:pusher-inbound")
        try:
            yield queue
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


class _Session:
    def __init__(self, pusher: ModelPusher, signed: bytes, manifest: Manifest, data: bytes, expect: int | None):
        self.pusher = pusher
        self.link = pusher.link
        self.message = manifest_message(signed)
        self.manifest = manifest
        self.data = data
        self.expect = expect
        self.final: dict[str, dict[str, Any]] = {}
        self.heard: dict[str, float] = {}  # device -> when it last spoke about this push
        self.last_manifest = time.monotonic()
        self.quiet_since = time.monotonic()

    def done(self) -> bool:
        target = self.manifest.target
        if target.group is None:
            return all(d in self.final for d in target.devices)
        if self.expect is not None:
            return len(self.final) >= self.expect
        settled = time.monotonic() - self.quiet_since > GROUP_SETTLE_S
        return bool(self.final) and set(self.heard) <= set(self.final) and settled

    async def send_manifest(self, device: str | None) -> None:
        target = self.manifest.target
        prefix = self.link.prefix
        if device is not None:
            topics = [device_topic(prefix, device, PUSH)]
        elif target.group is not None:
            topics = [group_topic(prefix, target.group)]
        else:
            topics = [device_topic(prefix, d, PUSH) for d in target.devices if d not in self.final]
        for topic in topics:
            await self.link.publish(topic, self.message)
            self.pusher.manifests_sent += 1
        self.last_manifest = time.monotonic()

    async def nudge(self) -> None:
        """Nothing heard for a while: send the manifest again to whoever has gone quiet."""
        now = time.monotonic()
        quiet = [d for d, t in self.heard.items() if d not in self.final and now - t > self.pusher.retry]
        for device in quiet:
            self.heard[device] = now
            await self.send_manifest(device)
        if now - self.last_manifest > self.pusher.retry and (not self.heard or self.manifest.target.group is None):
            await self.send_manifest(None)

    async def handle(self, message: Inbound) -> None:
        body = _body(message)
        device = device_of(message.topic)
        if body is None or device is None or body.get("push_id") != self.manifest.push_id:
            return
        self.heard[device] = self.quiet_since = time.monotonic()
        if message.topic.endswith(NEED):
            await self._serve(device, body.get("missing"))
        elif message.topic.endswith(STATUS):
            if self.pusher.on_status is not None:
                self.pusher.on_status(body)
            if body.get("state") in FINAL_STATES:
                self.final[device] = body

    async def _serve(self, device: str, missing: object) -> None:
        if not isinstance(missing, list):
            return
        topic = device_topic(self.link.prefix, device, PUSH)
        size = self.manifest.chunk_size
        for index in missing:
            if isinstance(index, int) and 0 <= index * size < max(len(self.data), 1):
                piece = self.data[index * size : (index + 1) * size]
                if await self.link.publish(topic, chunk_message(self.manifest.push_id, index, piece)):
                    self.pusher.sent_chunks[index] += 1
                if self.pusher.rate:
                    await asyncio.sleep(1.0 / self.pusher.rate)


def _body(message: Inbound) -> dict[str, Any] | None:
    try:
        return parse_json(message.payload)
    except WireError:
        log.debug("ignoring a non-JSON message on %s", message.topic)
        return None
