"""The two seams of model updates, and an in-memory hub joining them (for tests and demos).

A device link (`DeviceLink`) brings push messages in and sends status / need out; the runtime's own transport
(`cloud_sync.transport.Transport`) satisfies it. A cloud link (`CloudLink`) publishes push messages to a device
or group topic and brings every device's status / need in.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Protocol

from cloud_sync.counters import INBOUND_FULL, Drops
from cloud_sync.envelope import Inbound, device_topic
from cloud_sync.models.wire import PUSH, group_topic

LINK_DOWN = "link_down"  # the in-memory link was cut: the message is lost


class DeviceLink(Protocol):
    def inbound(self) -> AsyncIterator[Inbound]:
        """Messages on this device's (and its groups') push topics."""
        ...

    async def send(self, suffix: str, payload: bytes) -> bool:
        """Best effort: publish on ``<prefix>/<device>/<suffix>``."""
        ...


class CloudLink(Protocol):
    prefix: str

    async def publish(self, topic: str, payload: bytes) -> bool:
        """Best effort (QoS 1 where the link has it); False when not connected."""
        ...

    def inbound(self) -> AsyncIterator[Inbound]:
        """Every device's ``models/status`` and ``models/need`` messages."""
        ...


class _Queue:
    def __init__(self, drops: Drops, size: int) -> None:
        self.queue: asyncio.Queue[Inbound] = asyncio.Queue(size)
        self.drops = drops

    def put(self, message: Inbound) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.drops.add(INBOUND_FULL)

    async def __aiter__(self) -> AsyncIterator[Inbound]:
        while True:
            yield await self.queue.get()


class MemoryHub:
    """Routes messages between one cloud end and any number of device ends. `up = False` cuts the link."""

    def __init__(self, prefix: str = "edge", size: int = 4096) -> None:
        self.prefix = prefix
        self.size = size
        self.up = True
        self.drops = Drops()
        self.cloud_queue = _Queue(self.drops, size)
        self.devices: dict[str, tuple[tuple[str, ...], _Queue]] = {}

    def device(self, device: str, groups: tuple[str, ...] = ()) -> MemoryDeviceLink:
        queue = _Queue(self.drops, self.size)
        self.devices[device] = (groups, queue)
        return MemoryDeviceLink(self, device, queue)

    def cloud(self) -> MemoryCloudLink:
        return MemoryCloudLink(self)

    def to_devices(self, topic: str, payload: bytes) -> bool:
        if not self.up:
            self.drops.add(LINK_DOWN)
            return False
        for device, (groups, queue) in self.devices.items():
            wanted = {device_topic(self.prefix, device, PUSH), *(group_topic(self.prefix, g) for g in groups)}
            if topic in wanted:
                queue.put(Inbound(topic, payload))
        return True

    def to_cloud(self, topic: str, payload: bytes) -> bool:
        if not self.up:
            self.drops.add(LINK_DOWN)
            return False
        self.cloud_queue.put(Inbound(topic, payload))
        return True


class MemoryDeviceLink:
    def __init__(self, hub: MemoryHub, device: str, queue: _Queue) -> None:
        self.hub = hub
        self.device = device
        self._queue = queue

    def inbound(self) -> AsyncIterator[Inbound]:
        return self._queue.__aiter__()

    async def send(self, suffix: str, payload: bytes) -> bool:
        return self.hub.to_cloud(device_topic(self.hub.prefix, self.device, suffix), payload)


class MemoryCloudLink:
    def __init__(self, hub: MemoryHub) -> None:
        self.hub = hub
        self.prefix = hub.prefix

    async def publish(self, topic: str, payload: bytes) -> bool:
        return self.hub.to_devices(topic, payload)

    def inbound(self) -> AsyncIterator[Inbound]:
        return self.hub.cloud_queue.__aiter__()
