"""An in-memory transport: confirms every message at once. For tests, demos and `cloud: {}` (no link).

`cut()` takes the link down (publish then waits, send fails), `restore()` brings it back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from cloud_sync.counters import Drops
from cloud_sync.envelope import Inbound, Message, device_topic
from cloud_sync.inbound import Handler, Subscriptions


class MemoryTransport:
    """Keeps what it was sent (the last `keep` messages) and lets tests inject inbound messages."""

    def __init__(self, device: str = "device", prefix: str = "edge", keep: int = 100_000):
        self.device = device
        self.prefix = prefix
        self.keep = keep
        self.delivered: list[Message] = []
        self.sent_count = 0
        self._up = asyncio.Event()
        self._up.set()
        self.drops = Drops()
        self.subscriptions = Subscriptions(self.drops)

    @property
    def connected(self) -> bool:
        return self._up.is_set()

    def cut(self) -> None:
        self._up.clear()

    def restore(self) -> None:
        self._up.set()

    async def run(self) -> None:
        await asyncio.Event().wait()  # nothing to keep up; returns when cancelled

    async def publish(self, batch: Sequence[Message], *, follows: bool = False) -> list[int]:
        del follows  # every call completes: nothing is ever left unconfirmed
        await self._up.wait()
        self.delivered.extend(batch)
        self.sent_count += len(batch)
        if len(self.delivered) > self.keep:
            del self.delivered[: len(self.delivered) - self.keep]
        return [m.id for m in batch]

    async def send(self, suffix: str, payload: bytes) -> bool:
        if not self.connected:
            return False
        self.delivered.append(Message(0, device_topic(self.prefix, self.device, suffix), payload))
        return True

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        self.subscriptions.add(topic_filter, handler)

    def inject(self, suffix: str, payload: bytes) -> None:
        """Deliver an inbound message as if it came from the cloud on ``<prefix>/<device>/<suffix>``."""
        self.subscriptions.dispatch(Inbound(device_topic(self.prefix, self.device, suffix), payload))

    def stats(self) -> dict[str, object]:
        return {"link": "memory", "connected": self.connected, "sent": self.sent_count}
