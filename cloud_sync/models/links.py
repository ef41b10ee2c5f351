"""The two seams of model updates, and an in-memory hub joining them (for tests and demos).

A device link (`DeviceLink`) routes push messages to a handler and sends status / need out; the runtime's one
link to the cloud (`cloud_sync.transport.Transport`) is one. A cloud link (`CloudLink`) publishes push messages
to a device or group topic and brings every device's status / need in.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from cloud_sync.counters import Drops
from cloud_sync.envelope import Inbound, device_topic
from cloud_sync.inbound import Handler, InboundQueue, Subscriptions, matches

LINK_DOWN = "link_down"  # the in-memory link was cut: the message is lost


class DeviceLink(Protocol):
    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        """Call `handler` (on the event loop; it must not block) for each message matching `topic_filter`."""
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


class MemoryHub:
    """Routes messages between one cloud end and any number of device ends. `up = False` cuts the link."""

    def __init__(self, prefix: str = "edge", size: int = 4096) -> None:
        self.prefix = prefix
        self.size = size
        self.up = True
        self.drops = Drops()
        self.cloud_queue = InboundQueue(size, self.drops)
        self.devices: dict[str, MemoryDeviceLink] = {}

    def device(self, device: str) -> MemoryDeviceLink:
        link = self.devices[device] = MemoryDeviceLink(self, device)
        return link

    def cloud(self) -> MemoryCloudLink:
        return MemoryCloudLink(self)

    def to_devices(self, topic: str, payload: bytes) -> bool:
        if not self.up:
            self.drops.add(LINK_DOWN)
            return False
        for link in self.devices.values():
            if any(matches(f, topic) for f in link.subscriptions.filters()):
                link.subscriptions.dispatch(Inbound(topic, payload))
        return True

    def to_cloud(self, topic: str, payload: bytes) -> bool:
        if not self.up:
            self.drops.add(LINK_DOWN)
            return False
        self.cloud_queue.put(Inbound(topic, payload))
        return True


class MemoryDeviceLink:
    def __init__(self, hub: MemoryHub, device: str) -> None:
        self.hub = hub
        self.device = device
        self.subscriptions = Subscriptions(hub.drops)

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        self.subscriptions.add(topic_filter, handler)

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
