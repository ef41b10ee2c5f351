"""The place of a sink that could not open at start (its file went bad after `validate`): the streams run on."""

from __future__ import annotations

from cloud_sync.envelope import Envelope
from edge_runtime.drops import SINK_FAILED, DropCounter
from edge_runtime.sinks._base import Sink


class FailedSink(Sink):
    """What it is sent is counted (`sink_failed`), never written; `reason` is the one line that said why."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(name)
        self.reason = reason
        self.drops = DropCounter()

    def send(self, envelope: Envelope) -> None:
        self.drops.add(SINK_FAILED)
