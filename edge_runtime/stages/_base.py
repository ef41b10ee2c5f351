"""The contract of a post-inference stage: results in, results out, small and synchronous.

Stages run on the event loop, so they must only do small in-memory work (a tracker update, a window count).
Anything blocking belongs in a named thread (see the accelerator service).
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from edge_runtime.drops import DropCounter
from edge_runtime.results import Result


class Stage(ABC):
    """One named step of a stream's pipeline after inference."""

    def __init__(self, name: str, stream: str) -> None:
        self.name = name
        self.stream = stream
        self.drops = DropCounter()  # results this stage left out, by reason

    @abstractmethod
    def process(self, result: Result) -> list[Result]:
        """Take one result, return what passes on (none, the same, or new ones)."""

    def tick(self, now: float) -> list[Result]:
        """Called about once a second with time.time(): time windows close here. Default: nothing."""
        del now
        return []

    def flush(self) -> list[Result]:
        """Called once at shutdown: emit whatever is pending (a partial window, open tracks ending)."""
        return []
