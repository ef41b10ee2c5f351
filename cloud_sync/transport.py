"""The transport seam: what the uplink needs from MQTT, ZeroMQ or the in-memory link.

A transport owns its connection (`run`, reconnecting with backoff until cancelled) and sends batches
(`publish`, returning the ids the far side confirmed). Inbound messages (cloud to device, e.g. model pushes)
come out of `inbound()`; `send` publishes a small best-effort message such as a model status.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Protocol, runtime_checkable

from cloud_sync.envelope import Inbound, Message


@runtime_checkable
class Transport(Protocol):
    """One link to the cloud. `publish` is the only method the outbox drain needs."""

    async def run(self) -> None:
        """Connect, keep connected (jittered exponential backoff), until cancelled; then close cleanly."""

    async def publish(self, batch: Sequence[Message]) -> list[int]:
        """Send `batch` in order, many in flight; wait for a connection first.

        Returns the ids the far side confirmed (MQTT PUBACK, ZeroMQ ack). A lost connection ends the batch early;
        the unconfirmed rest stays in the outbox and is sent again later.
        """
        ...

    async def send(self, suffix: str, payload: bytes) -> bool:
        """Best effort: publish `payload` on `<prefix>/<device>/<suffix>` (e.g. ``models/status``)."""
        ...

    def inbound(self) -> AsyncIterator[Inbound]:
        """Messages from the cloud on this device's subscribed topics (e.g. ``models/push``)."""
        ...

    def stats(self) -> dict[str, object]:
        """Connection state and counters for the stats topic."""
        ...
