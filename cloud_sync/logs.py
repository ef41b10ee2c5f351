"""Rate-limited log lines: a flood of the same warning (a burst of bad messages) costs one line per interval."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

INTERVAL_S = 10.0


class RateLimitedLog:
    """Per `key`: the first line at once; then at most one line per `interval_s`, telling how many were held back
    ("... 29858 more in the last 10 s"). The counts themselves belong in drop counters, not in the log."""

    def __init__(
        self, logger: logging.Logger, interval_s: float = INTERVAL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.logger = logger
        self.interval_s = interval_s
        self._clock = clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def warning(self, key: str, message: str) -> bool:
        """Log `message` unless `key` was logged less than `interval_s` ago; True when a line was written."""
        now = self._clock()
        last = self._last.get(key)
        if last is not None and now - last < self.interval_s:
            self._held[key] = self._held.get(key, 0) + 1
            return False
        held = self._held.pop(key, 0)
        suffix = f" ... {held} more in the last {now - last:.0f} s" if held and last is not None else ""
        self.logger.warning("%s%s", message, suffix)
        self._last[key] = now
        return True
