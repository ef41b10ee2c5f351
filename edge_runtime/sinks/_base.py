"""The sink interface: where result envelopes go. The cloud uplink implements the same one."""

from __future__ import annotations

from abc import ABC, abstractmethod

from cloud_sync.envelope import Envelope


class Sink(ABC):
    """Receives envelopes. `send` must not block: it hands the envelope to a bounded buffer and counts drops."""

    def __init__(self, name: str) -> None:
        self.name = name

    async def run(self) -> None:  # noqa: B027 - optional hook
        """Background work (flushing, connecting) owned by the runtime's task group; returns when cancelled.

        Default: nothing to do.
        """

    @abstractmethod
    def send(self, envelope: Envelope) -> None:
        """Accept one envelope."""

    async def close(self) -> None:  # noqa: B027 - optional hook, default does nothing
        """Flush and release; called once at shutdown after the last `send`."""
