"""Latest-wins publishing of small state messages on the device's link.

`put` never blocks: it records the newest payload of a topic (a newer one replaces a pending older one: state
topics only ever need their latest value, so the pending set is bounded by the number of topics). One task
sends them, in the order their topics were first put, each a QoS 1 publish on the link. A `low` message (a
snapshot) goes only when no other message is pending and `idle()` says no result waits in the uplink: it is
never sent ahead of results.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


class TopicLink(Protocol):
    """What the publisher needs from the link (cloud_sync.MqttTransport)."""

    async def send_to(self, topic: str, payload: bytes, timeout: float = 5.0, *, retain: bool = False) -> bool: ...

    async def wait_connected(self) -> None: ...


LOW_WAIT_S = 0.05  # while results are being sent, how often a low-priority message looks again


class Publisher:
    def __init__(self, link: TopicLink, idle: Callable[[], bool] = lambda: True) -> None:
        self.link = link
        self.idle = idle
        self._pending: dict[str, tuple[bytes, bool]] = {}
        self._low: dict[str, tuple[bytes, bool]] = {}
        self._ready = asyncio.Event()
        self.sent = 0
        self.failed = 0

    def put(self, topic: str, payload: bytes, *, retain: bool = False, low: bool = False) -> bool:
        """Returns True when this replaced a pending message of the topic (which is then never sent)."""
        pending = self._low if low else self._pending
        replaced = topic in pending
        pending[topic] = (payload, retain)
        self._ready.set()
        return replaced

    async def run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._pending or self._low:
                if self._pending:
                    await self._send_next(self._pending)
                elif self.idle():
                    await self._send_next(self._low)
                else:  # results are waiting in the uplink: they go first
                    await asyncio.sleep(LOW_WAIT_S)

    async def _send_next(self, pending: dict[str, tuple[bytes, bool]]) -> None:
        await self.link.wait_connected()
        topic = next(iter(pending))
        payload, retain = pending.pop(topic)
        if await self.link.send_to(topic, payload, retain=retain):
            self.sent += 1
        else:  # the link went down meanwhile: sent again after reconnecting unless replaced
            self.failed += 1
            pending.setdefault(topic, (payload, retain))
