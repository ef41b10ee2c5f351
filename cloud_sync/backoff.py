"""Jittered exponential backoff for reconnect loops."""

from __future__ import annotations

import random


class Backoff:
    """Delays that double from `initial` up to `maximum`, each drawn uniformly from [d/2, d] ("equal jitter")."""

    def __init__(self, initial: float = 0.5, maximum: float = 30.0, rng: random.Random | None = None) -> None:
        if initial <= 0 or maximum < initial:
            raise ValueError("backoff: need 0 < initial <= maximum")
        self.initial = initial
        self.maximum = maximum
        self._rng = rng or random.Random()
        self._current = initial

    def next(self) -> float:
        """The delay before the next attempt; doubles the ceiling for the one after."""
        ceiling = self._current
        self._current = min(self._current * 2, self.maximum)
        return self._rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        """After a success: start again from `initial`."""
        self._current = self.initial
