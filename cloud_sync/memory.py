"""An in-memory transport: confirms every message at once. For tests, demos and `cloud: {}` (no link)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

from cloud_sync.counters import INBOUND_FULL, Drops
from cloud_sync.envelope import Inbound, Message, device_topic


class MemoryTransport:
    """Keeps what it was sent (the last `keep` messages) and lets tests inject inbound messages."""

    def __init__(self, device: str = "device", prefix: str = "edge", keep: int = 100_000, inbound_size: int = 64):
        self.device = device
        self.prefix = prefix
        self.keep = keep
        self.delivered: list[Message] = []
        self.sent_count = 0
        self.connected = asyncio.Event()
        self.connected.set()
        self.drops = Drops()
        self._inbound: asyncio.Queue[Inbound] = asyncio.Queue(maxsize=inbound_size)

    async def run(self) -> None:
        await asyncio.Event().wait()  # nothing to keep up; returns when cancelled

    async def publish(self, batch: Sequence[Message]) -> list[int]:
        await self.connected.wait()
        self.delivered.extend(batch)
        self.sent_count += len(batch)
        if len(self.delivered) > self.keep:
            del self.delivered[: len(self.delivered) - self.keep]
        return [m.id for m in batch]

    async def send(self, suffix: str, payload: bytes) -> bool:
        self.delivered.append(Message(0, device_topic(self.prefix, self.device, suffix), payload))
        return True

    def inject(self, suffix: str, payload: bytes) -> bool:
        """Deliver an inbound message as if it came from the cloud; False (counted) when the queue is full."""
        try:
            self._inbound.put_nowait(Inbound(device_topic(self.prefix, self.device, suffix), payload))
        except asyncio.QueueFull:
            self.drops.add(INBOUND_FULL)
            return False
        return True

    async def inbound(self) -> AsyncIterator[Inbound]:
        while True:
            yield await self._inbound.get()

    def stats(self) -> dict[str, object]:
        return {"link": "memory", "connected": self.connected.is_set(), "sent": self.sent_count}
