"""The cloud side of a push: send the signed manifest, then serve exactly the chunks each device asks for.

The device pulls (``models/need``), so the pusher keeps no per-chunk state: after a link drop the device asks
again for what it lacks and the pusher sends just that. A group push also sends every chunk once on the group
topic right after the manifest (the broker fans it out to each member's subscription); a member pulls only the
chunks that broadcast did not bring it. A push to listed devices whose manifest names a `channel` (a rollout's
wave) does the same on that topic once every listed device has joined it (said ``verified``), or joins stopped
for `JOIN_QUIET_S`, or `JOIN_MAX_S` passed; a device that joins later pulls what it missed. A manifest is sent
again to a device that has said nothing for `retry` seconds (it may have missed it); a device that already
finished answers with its outcome.

A refusal of a manifest whose signature did not verify (``"unverified": true``, see `wire`) only repeats the
push id that message claimed: anyone who can publish on a push topic can make a device send one for a real push.
Such a refusal is advisory, never the device's answer while the device may still be working on the real manifest:

* a device that said anything about the verified manifest (``received``, ``need``, ...) is past it, so its
  advisory refusals are ignored and only its own final status ends its part of the push;
* a device that sent an advisory refusal and nothing else for ``2 * retry`` seconds (the manifest was sent to it
  again meanwhile) did not accept our manifest either: that refusal becomes its answer. This is the honest case
  of a key the device does not trust, which so ends in seconds with the device's reason, not at `timeout`;
* at `timeout`, a device with no final status but an advisory refusal is reported with that refusal.

A forger can so only add that delay to a device that never gets the real manifest, never end a push it is serving.
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
JOIN_QUIET_S = 1.0  # a channel push broadcasts once no device joined for this long (or every one did) ...
JOIN_MAX_S = 6.0  # ... or this long after its manifests went out (devices listen 4 x need_timeout: 8 s)


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
        async with self._messages(8 * (expect or len(manifest.target.devices))) as inbox:
            deadline = time.monotonic() + timeout
            await session.send_manifest(None)
            session.started = session.last_join = time.monotonic()
            if manifest.target.group is not None:
                await session.broadcast()
            watching = False
            while (left := deadline - time.monotonic()) > 0:
                if session.done(time.monotonic()):
                    if not watch or all(s.get("state") != "active" for s in session.final.values()):
                        break
                    if not watching:
                        deadline, watching = min(deadline, time.monotonic() + watch), True
                        continue
                try:
                    message: Inbound | None = await asyncio.wait_for(inbox.get(), min(left, self.retry / 2))
                except asyncio.TimeoutError:
                    message = None
                if message is not None:
                    await session.handle(message)
                    while not inbox.empty():  # all that is waiting before nudging: a big group answers in bursts
                        await session.handle(inbox.get_nowait())
                await session.broadcast_when_joined()
                await session.nudge()  # also while messages keep coming: a flood never holds back a resend
        return session.results()

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
    async def _messages(self, size: int = 0) -> Any:
        """Messages from devices, in a queue of `size` (at least 4096: a few statuses per device of a push)."""
        queue: asyncio.Queue[Inbound] = asyncio.Queue(max(size, 4096))

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
        self.heard: dict[str, float] = {}  # device -> when it last spoke about the verified manifest
        self.advisory: dict[str, tuple[float, dict[str, Any]]] = {}  # device -> (first, last) unverified refusal
        self.last_manifest = self.started = self.last_join = time.monotonic()
        self.quiet_since = time.monotonic()
        self.joined: set[str] = set()  # devices that verified a channel push's manifest (they listen on it)
        self.broadcast_done = manifest.channel is None

    def done(self, now: float) -> bool:
        target = self.manifest.target
        refused = self._refused(now)
        if target.group is None:
            return all(d in self.final or d in refused for d in target.devices)
        if refused and not self.heard:  # no device took the manifest: the key is not trusted
            return True
        if self.expect is not None:
            return len(self.final) >= self.expect
        settled = now - self.quiet_since > GROUP_SETTLE_S
        return bool(self.final) and set(self.heard) <= set(self.final) and settled

    def results(self) -> dict[str, dict[str, Any]]:
        """Each device's final status; an advisory refusal for a device that said nothing else (module doc)."""
        listed = self.manifest.target.devices
        advised = {d: body for d, (_, body) in self.advisory.items() if d not in self.heard}
        return {**{d: b for d, b in advised.items() if not listed or d in listed}, **self.final}

    def _refused(self, now: float) -> set[str]:
        """Devices whose advisory refusal stands: nothing else from them for 2 * retry since the first one."""
        wait = 2 * self.pusher.retry
        return {d for d, (first, _) in self.advisory.items() if d not in self.heard and now - first >= wait}

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

    async def broadcast_when_joined(self) -> None:
        """A channel push: broadcast once every listed device not yet final has joined, or joins stopped."""
        if self.broadcast_done:
            return
        now = time.monotonic()
        waiting = set(self.manifest.target.devices) - self.joined - set(self.final)
        if waiting and now - self.last_join < JOIN_QUIET_S and now - self.started < JOIN_MAX_S:
            return
        self.broadcast_done = True
        if self.joined - set(self.final):
            await self.broadcast()

    async def broadcast(self) -> None:
        """Every chunk once on the group topic or the manifest's channel (members pull what they miss)."""
        target, manifest = self.manifest.target, self.manifest
        if manifest.action != "push":
            return
        topic = manifest.channel or group_topic(self.link.prefix, target.group or "")
        for index in range(manifest.chunks):
            piece = self.data[index * manifest.chunk_size : (index + 1) * manifest.chunk_size]
            if await self.link.publish(topic, chunk_message(manifest.push_id, index, piece)):
                self.pusher.sent_chunks[index] += 1
            if self.pusher.rate:
                await asyncio.sleep(1.0 / self.pusher.rate)

    async def nudge(self) -> None:
        """Nothing heard for a while: send the manifest again to whoever has gone quiet."""
        now = time.monotonic()
        quiet = [d for d, t in self.heard.items() if d not in self.final and now - t > self.pusher.retry]
        for device in quiet:
            self.heard[device] = now
            await self.send_manifest(device)
        if now - self.last_manifest > self.pusher.retry and (not self.heard or self.manifest.target.group is None
                                                              or self._group_silent(now)):
            await self.send_manifest(None)

    def _group_silent(self, now: float) -> bool:
        """A group push expecting more devices than have finished, and nobody spoke for `retry`: some members may
        have missed the manifest (members that finished answer a repeat with their outcome)."""
        expected = self.expect is not None and len(self.final) < self.expect
        return expected and now - self.quiet_since > self.pusher.retry

    async def handle(self, message: Inbound) -> None:
        body = _body(message)
        device = device_of(message.topic)
        if body is None or device is None or body.get("push_id") != self.manifest.push_id:
            return
        if message.topic.endswith(STATUS) and self.pusher.on_status is not None:
            self.pusher.on_status(body)
        if message.topic.endswith(STATUS) and _unverified(body):
            first = self.advisory.get(device, (time.monotonic(), body))[0]
            self.advisory[device] = (first, body)
            return
        self.heard[device] = self.quiet_since = time.monotonic()
        if message.topic.endswith(NEED):
            await self._serve(device, body.get("missing"))
        elif body.get("state") in FINAL_STATES:
            self.final[device] = body
        elif body.get("state") == "verified":
            self.joined.add(device)
            self.last_join = time.monotonic()

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


def _unverified(body: dict[str, Any]) -> bool:
    """A status about a manifest the device could not verify: its push id is only claimed (module doc)."""
    return body.get("unverified") is True or "name" not in body


def _body(message: Inbound) -> dict[str, Any] | None:
    try:
        return parse_json(message.payload)
    except WireError:
        log.debug("ignoring a non-JSON message on %s", message.topic)
        return None
