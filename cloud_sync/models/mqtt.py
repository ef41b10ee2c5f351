"""Model updates over MQTT (aiomqtt): a device link and a cloud link, each its own connection.

The device link subscribes to ``<prefix>/<device>/models/push`` and to ``<prefix>/groups/<group>/models/push``
for each of its groups, and publishes status / need with QoS 1. The cloud link subscribes to every device's
``models/status`` and ``models/need`` and publishes pushes with QoS 1. Both reconnect with jittered backoff.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import AsyncIterator, Sequence

import aiomqtt

from cloud_sync._tls import describe, ssl_context
from cloud_sync.backoff import Backoff
from cloud_sync.config import MqttConfig
from cloud_sync.counters import INBOUND_FULL, Drops
from cloud_sync.envelope import Inbound, device_topic
from cloud_sync.models.wire import NEED, PUSH, STATUS, group_topic

log = logging.getLogger("cloud_sync.models")
SEND_TIMEOUT_S = 2.0


class _MqttLink:
    """One connection: subscribe to `topics`, queue what arrives (bounded, drops counted), publish QoS 1."""

    def __init__(self, config: MqttConfig, client_id: str, topics: Sequence[str], inbound_size: int = 1024) -> None:
        self.config = config
        self.client_id = client_id
        self.topics = tuple(topics)
        self.drops = Drops()
        self.connects = 0
        self.last_error: str | None = None
        self._client: aiomqtt.Client | None = None
        self._up = asyncio.Event()
        self._inbound: asyncio.Queue[Inbound] = asyncio.Queue(inbound_size)
        self._backoff = Backoff(config.backoff_initial, config.backoff_max)

    async def run(self) -> None:
        """Connect and keep connected until cancelled."""
        while True:
            try:
                await self._session()
            except aiomqtt.MqttError as exc:
                message = describe(exc)
                if message != self.last_error:
                    log.warning("mqtt %s:%s (%s): %s; reconnecting", self.config.host, self.config.port,
                                self.client_id, message)  # fmt: skip
                self.last_error = message
            await asyncio.sleep(self._backoff.next())

    async def wait_connected(self, timeout: float) -> bool:
        try:
            await asyncio.wait_for(self._up.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    async def _session(self) -> None:
        cfg = self.config
        async with aiomqtt.Client(
            cfg.host, cfg.port, identifier=self.client_id, username=cfg.username, password=cfg.password,
            keepalive=cfg.keepalive, timeout=10.0, tls_context=ssl_context(cfg.tls) if cfg.tls is not None else None,
        ) as client:  # fmt: skip
            for topic in self.topics:
                await client.subscribe(topic, qos=1)
            self._client, self.last_error = client, None
            self.connects += 1
            self._backoff.reset()
            self._up.set()
            try:
                async for message in client.messages:
                    payload = message.payload if isinstance(message.payload, bytes) else b""
                    self._deliver(Inbound(str(message.topic), payload))
            finally:
                self._up.clear()
                self._client = None

    def _deliver(self, message: Inbound) -> None:
        try:
            self._inbound.put_nowait(message)
        except asyncio.QueueFull:
            self.drops.add(INBOUND_FULL)

    async def publish(self, topic: str, payload: bytes) -> bool:
        client = self._client
        if client is None:
            return False
        try:
            await client.publish(topic, payload, qos=1, timeout=SEND_TIMEOUT_S)
        except aiomqtt.MqttError:
            return False
        return True

    async def inbound(self) -> AsyncIterator[Inbound]:
        while True:
            yield await self._inbound.get()


class MqttDeviceLink(_MqttLink):
    """The device end (`DeviceLink`): push topics in, status and need out."""

    def __init__(self, config: MqttConfig, device: str, groups: Sequence[str] = (), prefix: str = "edge") -> None:
        topics = [device_topic(prefix, device, PUSH), *(group_topic(prefix, g) for g in groups)]
        super().__init__(config, f"edge-{device}-models", topics)
        self.device = device
        self.prefix = prefix

    async def send(self, suffix: str, payload: bytes) -> bool:
        return await self.publish(device_topic(self.prefix, self.device, suffix), payload)


class MqttCloudLink(_MqttLink):
    """The cloud end (`CloudLink`): every device's status and need in, pushes out."""

    def __init__(self, config: MqttConfig, prefix: str = "edge", client_id: str | None = None) -> None:
        client_id = client_id or config.client_id or f"edge-cloud-models-{secrets.token_hex(4)}"  # one per process
        super().__init__(config, client_id, [f"{prefix}/+/{STATUS}", f"{prefix}/+/{NEED}"])
        self.prefix = prefix
