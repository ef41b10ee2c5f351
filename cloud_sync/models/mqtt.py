"""Model updates over MQTT, the cloud end: `edge-cloud models` publishes pushes and hears every device's status.

The device end is the device's one link (`cloud_sync.mqtt.MqttTransport`), subscribed by `ModelInbox`. The
cloud link is the same MQTT layer without a status topic: it subscribes to every device's ``models/status`` and
``models/need`` and publishes pushes with QoS 1, reconnecting with jittered backoff.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator

from cloud_sync.config import MqttConfig
from cloud_sync.envelope import Inbound
from cloud_sync.inbound import InboundQueue
from cloud_sync.models.wire import NEED, STATUS
from cloud_sync.mqtt import MqttTransport

SEND_TIMEOUT_S = 2.0


class MqttCloudLink:
    """The cloud end (`CloudLink`): every device's status and need in, pushes out."""

    def __init__(
        self, config: MqttConfig, prefix: str = "edge", client_id: str | None = None, inbound_size: int = 1024
    ) -> None:
        client_id = client_id or config.client_id or f"edge-cloud-models-{secrets.token_hex(4)}"  # one per process
        self.prefix = prefix
        self.link = MqttTransport(config, client_id, prefix=prefix, status=False, client_id=client_id)
        self.queue = InboundQueue(inbound_size, self.link.drops)
        self.drops = self.link.drops
        for suffix in (STATUS, NEED):
            self.link.subscribe(f"{prefix}/+/{suffix}", self.queue.put)

    async def run(self) -> None:
        """Connect and keep connected until cancelled."""
        await self.link.run()

    async def wait_connected(self, timeout: float) -> bool:
        return await self.link.connected_within(timeout)

    @property
    def connects(self) -> int:
        return self.link.connects

    @property
    def last_error(self) -> str | None:
        return self.link.last_error

    async def publish(self, topic: str, payload: bytes) -> bool:
        return await self.link.send_to(topic, payload, timeout=SEND_TIMEOUT_S)

    def inbound(self) -> AsyncIterator[Inbound]:
        return self.queue.__aiter__()
