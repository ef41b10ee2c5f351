"""/healthz causes, from the same view as everything else: a camera quiet longer than its stall timeout, a model
whose lanes keep getting stuck (the scheduler's watchdog holds it as unhealthy), the outbox refusing commits, the
cloud link down longer than `http.link_down_s`. Sampled once a second."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cloud_sync.counters import COMMIT_FAILED

if TYPE_CHECKING:
    from edge_runtime.http._view import RuntimeView

OUTBOX_WINDOW_S = 60.0


@dataclass
class _Seen:
    count: int
    since: float  # monotonic time the count last changed


@dataclass
class Health:
    view: RuntimeView
    link_down_s: float
    _offered: dict[str, _Seen] = field(default_factory=dict)
    _link_up_at: float = field(default_factory=time.monotonic)
    _commit_failed: _Seen = field(default_factory=lambda: _Seen(0, -OUTBOX_WINDOW_S))

    def sample(self, now: float | None = None) -> None:
        now = time.monotonic() if now is None else now
        for runner in self.view.runners:
            seen = self._offered.get(runner.name)
            if seen is None or seen.count != runner.stats.offered:
                self._offered[runner.name] = _Seen(runner.stats.offered, now)
        if self.view.cloud is not None:
            stats = self.view.cloud.uplink.stats()
            if stats["link"].get("connected"):
                self._link_up_at = now
            failed = int(stats["drops"].get(COMMIT_FAILED, 0))
            if failed != self._commit_failed.count:
                self._commit_failed = _Seen(failed, now)

    def causes(self, now: float | None = None) -> list[str]:
        """One line per reason the runtime is unhealthy (empty: healthy)."""
        now = time.monotonic() if now is None else now
        self.sample(now)
        causes = []
        for parts in self.view.streams:
            name, source = parts.runner.name, parts.config.source if parts.config else None
            stall = getattr(source, "stall_timeout", None)
            seen = self._offered.get(name)
            if source is not None and source.type == "camera" and stall is not None and seen is not None:
                quiet = now - seen.since
                if quiet > stall:
                    causes.append(f"stream {name!r}: camera down, no frame for {quiet:.0f} s (stall {stall:g} s)")
        for model in self.view.service.watchdog.unhealthy():
            causes.append(f"model {model!r}: lanes stuck running it (the watchdog refuses its jobs for now)")
        if self.view.cloud is not None:
            down = now - self._link_up_at
            if down > self.link_down_s:
                causes.append(f"cloud link down for {down:.0f} s (more than {self.link_down_s:g} s)")
            if now - self._commit_failed.since < OUTBOX_WINDOW_S and self._commit_failed.count:
                causes.append("outbox refusing commits (commit_failed in the last minute)")
        return causes
