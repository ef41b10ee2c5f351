"""A test's own MQTT client on a real broker, made of the project's one MQTT layer (no second client library)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator

from cloud_sync import Inbound, MqttConfig, MqttTransport
from cloud_sync.inbound import InboundQueue


class Probe:
    """Subscribed to `filters` (before connecting, so nothing published after `connected` is missed)."""

    def __init__(self, port: int, filters: tuple[str, ...], size: int) -> None:
        client_id = f"probe-{secrets.token_hex(4)}"
        config = MqttConfig(host="127.0.0.1", port=port, backoff_initial=0.1, backoff_max=0.5)
        self.link = MqttTransport(config, client_id, status=False, client_id=client_id)
        self.queue = InboundQueue(size)
        self.kept: list[Inbound] = []
        for topic_filter in filters:
            self.link.subscribe(topic_filter, self.queue.put)

    async def publish(self, topic: str, payload: bytes | str) -> None:
        data = payload.encode() if isinstance(payload, str) else payload
        if not await self.link.send_to(topic, data):
            raise AssertionError(f"publish on {topic} not acknowledged")

    async def get(self, timeout: float = 5.0) -> Inbound:
        return await asyncio.wait_for(self.queue.get(), timeout)

    def received(self) -> list[Inbound]:
        """Everything received so far (taken from the queue and kept)."""
        while (message := self.queue.get_nowait()) is not None:
            self.kept.append(message)
        return self.kept

    async def take(self, n: int, timeout: float = 10.0) -> list[Inbound]:
        return [await self.get(timeout) for _ in range(n)]


@contextlib.asynccontextmanager
async def probe(port: int, *filters: str, size: int = 100_000) -> AsyncIterator[Probe]:
    client = Probe(port, filters, size)
    runner = asyncio.create_task(client.link.run(), name="probe-link")
    try:
        await asyncio.wait_for(client.link.wait_connected(), 10)
        yield client
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
