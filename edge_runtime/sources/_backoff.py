"""Jittered exponential backoff between reconnect attempts."""

from __future__ import annotations

import random


class Backoff:
    """Delays of ``initial * 2**n`` capped at ``maximum``, with equal jitter: each is uniform in [d/2, d].

    The jitter keeps many devices (or many cameras of one device) from retrying in lockstep after an outage;
    the lower half keeps a retry from coming back immediately. `reset()` after a connection proved healthy.
    """

    def __init__(self, initial: float, maximum: float, rng: random.Random | None = None) -> None:
        if not 0 < initial <= maximum:
            raise ValueError("backoff needs 0 < initial <= maximum")
        self.initial = initial
        self.maximum = maximum
        self._attempt = 0
        self._rng = rng or random.Random()

    def next_delay(self) -> float:
        ceiling = min(self.maximum, self.initial * 2.0 ** min(self._attempt, 32))
        self._attempt += 1
        return ceiling / 2 + self._rng.uniform(0, ceiling / 2)

    def reset(self) -> None:
        self._attempt = 0
