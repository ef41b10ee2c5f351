"""The Frigate-like state and control topics of one device, written once (README: MQTT reference)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topics:
    prefix: str  # the cloud topic prefix (default `edge`)
    device: str

    @property
    def status(self) -> str:
        return f"{self.prefix}/{self.device}/status"

    @property
    def device_state(self) -> str:
        return f"{self.prefix}/{self.device}/device/state"

    def stream(self, stream: str, *levels: str) -> str:
        return "/".join((self.prefix, self.device, stream, *levels))

    def count(self, stream: str, label: str) -> str:
        return self.stream(stream, label)

    def occupied(self, stream: str, label: str) -> str:
        return self.stream(stream, label, "occupied")

    def stats(self, stream: str) -> str:
        return self.stream(stream, "stats")

    def control(self, stream: str, what: str, verb: str) -> str:
        """`what` is ``detect`` or ``fps``; `verb` ``set`` (commands in) or ``state`` (retained echo out)."""
        return self.stream(stream, what, verb)

    def control_filter(self, what: str) -> str:
        return self.stream("+", what, "set")
