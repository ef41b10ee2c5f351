"""The `memory` sink: keeps envelopes in a bounded deque, for tests and embedding."""

from __future__ import annotations

from collections import deque

from cloud_sync.envelope import Envelope
from edge_runtime.drops import DropCounter
from edge_runtime.sinks._base import Sink


class MemorySink(Sink):
    def __init__(self, name: str, capacity: int = 100_000) -> None:
        super().__init__(name)
        self.envelopes: deque[Envelope] = deque(maxlen=capacity)
        self.drops = DropCounter()

    def send(self, envelope: Envelope) -> None:
        if len(self.envelopes) == self.envelopes.maxlen:
            self.drops.add("evicted")
        self.envelopes.append(envelope)
