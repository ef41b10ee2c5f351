"""Per-key state machines of the debounce stage: what was last reported, and whether a change is due.

Each watch is fed observations and asked `pending()`: the change to report now, or None. The stage
reports it (subject to its minimum interval) and then calls `reported()`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

ON = "on"
OFF = "off"


class Watch(ABC):
    """One watched key: a reading value or a label's presence."""

    @abstractmethod
    def pending(self) -> dict[str, Any] | None:
        """The change that would be reported now, or None when nothing changed (enough)."""

    @abstractmethod
    def reported(self) -> None:
        """The pending change went out: it is the new reference."""


class DeltaWatch(Watch):
    """Change-only: report a value when it moved at least `delta` from the last reported one (any move if 0)."""

    def __init__(self, delta: float) -> None:
        self.delta = delta
        self.latest: float | None = None
        self.last: float | None = None

    def observe(self, value: float) -> None:
        self.latest = value

    def pending(self) -> dict[str, Any] | None:
        if self.latest is None or self.latest == self.last:
            return None
        if self.last is not None and abs(self.latest - self.last) < self.delta:
            return None
        return {"value": self.latest, "previous": self.last}

    def reported(self) -> None:
        self.last = self.latest


class StateWatch(Watch):
    """An on/off state that starts off and is reported when it differs from the last report."""

    def __init__(self) -> None:
        self.state = OFF
        self.last = OFF
        self.detail: dict[str, Any] = {}

    def pending(self) -> dict[str, Any] | None:
        if self.state == self.last:
            return None
        return {"state": self.state, "previous": self.last, **self.detail}

    def reported(self) -> None:
        self.last = self.state


class HysteresisWatch(StateWatch):
    """On above `on_above`, off below `off_below`; in between the state holds, so noise does not flap it."""

    def __init__(self, on_above: float, off_below: float) -> None:
        super().__init__()
        self.on_above = on_above
        self.off_below = off_below

    def observe(self, value: float) -> None:
        self.detail = {"value": value}
        if value > self.on_above:
            self.state = ON
        elif value < self.off_below:
            self.state = OFF


class PresenceWatch(StateWatch):
    """A label is on after `on_frames` results in a row with it, off after `off_frames` in a row without."""

    def __init__(self, on_frames: int, off_frames: int) -> None:
        super().__init__()
        self.on_frames = on_frames
        self.off_frames = off_frames
        self.run = 0  # results in a row that disagree with the current state

    def observe(self, score: float | None) -> None:
        present = score is not None
        self.run = self.run + 1 if present != (self.state == ON) else 0
        if self.run >= (self.on_frames if present else self.off_frames):
            self.state = ON if present else OFF
            self.run = 0
        self.detail = {"score": score} if present else {}
