"""Latest-wins publishing of small state messages on the device's link.

`put` never blocks: it records the newest payload of a topic (a newer one replaces a pending older one: state
topics only ever need their latest value, so the pending set is bounded by the number of topics). One task
sends them, in the order their topics were first put, each a QoS 1 publish on the link.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

log = logging.getLogger(__name__)


class TopicLink(Protocol):
    """What the publisher needs from the link (cloud_sync.MqttTransport)."""

    async def send_to(self, topic: str, payload: bytes, timeout: float = 5.0, *, retain: bool = False) -> bool: ...

    async def wait_connected(self) -> None: ...


class Publisher:
    def __init__(self, link: TopicLink) -> None:
        self.link = link
        self._pending: dict[str, tuple[bytes, bool]] = {}
        self._ready = asyncio.Event()
        self.sent = 0
        self.failed = 0

    def put(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        self._pending[topic] = (payload, retain)
        self._ready.set()

    async def run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._pending:
                await self.link.wait_connected()
                topic = next(iter(self._pending))
                payload, retain = self._pending.pop(topic)
                if await self.link.send_to(topic, payload, retain=retain):
                    self.sent += 1
                else:  # the link went down meanwhile: sent again after reconnecting unless replaced
                    self.failed += 1
                    self._pending.setdefault(topic, (payload, retain))
