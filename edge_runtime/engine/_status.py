"""Live per-stream status: a redrawn block on a terminal, periodic log lines otherwise."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Literal

from edge_runtime.engine._terminal import LiveTerminal, status_line
from edge_runtime.stats import StreamStats

log = logging.getLogger("edge_runtime.status")
LOG_EVERY_S = 10.0


class StatusDisplay:
    def __init__(
        self, stats: list[StreamStats], mode: Literal["tty", "log"], interval_s: float, terminal: LiveTerminal | None
    ) -> None:
        self.stats = stats
        self.mode = mode
        self.interval_s = interval_s
        self.terminal = terminal
        self._started = time.monotonic()

    def lines(self) -> list[str]:
        elapsed = time.monotonic() - self._started
        return [status_line(s, elapsed) for s in self.stats]

    async def run(self, started: float) -> None:
        self._started = started
        every = self.interval_s if self.mode == "tty" else max(self.interval_s, LOG_EVERY_S)
        while True:
            await asyncio.sleep(every)
            if self.mode == "tty" and self.terminal is not None:
                self.terminal.update(self.lines())
            else:
                for line in self.lines():
                    log.info("%s", line)

    def final(self) -> None:
        if self.terminal is not None:
            self.terminal.update(self.lines())
            self.terminal.close()
        else:
            for line in self.lines():
                log.info("final: %s", line)
