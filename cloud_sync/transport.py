"""The device link: what the uplink, model updates (and later control topics) need from MQTT, ZeroMQ or memory.

A device holds one link to the cloud endpoint. It owns its connection (`run`, reconnecting with backoff until
cancelled) and offers one small interface: `publish` sends batches from the outbox (the uplink puts envelopes
there with a priority), returning the ids the far side confirmed; `subscribe` routes inbound messages matching a
topic filter to a handler; `connected` is the connection state; `send` publishes a small best-effort message
such as a model status.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from cloud_sync.envelope import Message
from cloud_sync.inbound import Handler


@runtime_checkable
class Transport(Protocol):
    """One link to the cloud (implementations: MqttTransport, ZmqTransport, MemoryTransport)."""

    async def run(self) -> None:
        """Connect, keep connected (jittered exponential backoff), until cancelled; then close cleanly."""

    async def publish(self, batch: Sequence[Message], *, follows: bool = False) -> list[int]:
        """Send `batch` in order, many in flight; wait for a connection first. With `follows` (the batch was
        fetched while the previous call was in flight), send nothing and return [] unless the previous call
        is going well on the same connection: a newer batch never overtakes an older unconfirmed one.

        Returns the ids the far side confirmed (MQTT PUBACK, ZeroMQ ack). A lost connection ends the batch early;
        the unconfirmed rest stays in the outbox and is sent again later.
        """
        ...

    async def send(self, suffix: str, payload: bytes) -> bool:
        """Best effort: publish `payload` on `<prefix>/<device>/<suffix>` (e.g. ``models/status``)."""
        ...

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        """Call `handler` on the event loop for every inbound message whose topic matches `topic_filter`."""
        ...

    @property
    def connected(self) -> bool:
        """True while the connection is up."""
        ...

    def stats(self) -> dict[str, object]:
        """Connection state and counters for the stats topic."""
        ...
