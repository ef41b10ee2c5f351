"""The cloud sink: results into the durable outbox, out over MQTT or ZeroMQ (see cloud_sync)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from cloud_sync import CloudConfig, Envelope, Priority, outbox_priority
from edge_runtime.sinks._base import Sink

if TYPE_CHECKING:
    from cloud_sync import Uplink

StatsProvider = Callable[[], dict[str, Any]]
STATS_STREAM = "_stats"


def _priority_function(priority_of: Callable[[str], int] | Mapping[str, int | Priority] | None) -> Callable[[str], int]:
    """A stream name -> outbox priority (`outbox_priority`: critical 3 ... low 0); unknown streams are normal."""
    normal = outbox_priority("normal")
    if priority_of is None:
        return lambda stream: normal
    if callable(priority_of):
        return priority_of
    table = {name: outbox_priority(v) if isinstance(v, str) else v for name, v in priority_of.items()}
    return lambda stream: table.get(stream, normal)


class CloudSink(Sink):
    """`send` never blocks (the uplink buffers and counts drops); `run` drains; `close` commits what was accepted.

    The uplink is entered (``async with sink.uplink``: outbox open, committer running) before `run` and left
    after `close`: the runtime enters it as one of its services.

    With `stats`, an envelope of kind ``stats`` (stream ``_stats``, topic ``<prefix>/<device>/stats``) is sent
    every `stats_interval_s`, low priority and short-lived.
    """

    def __init__(
        self,
        config: CloudConfig,
        device: str,
        boot_id: str,
        priority_of: Callable[[str], int] | Mapping[str, int | Priority] | None = None,
        *,
        name: str = "cloud",
        stats: StatsProvider | None = None,
        stats_interval_s: float = 10.0,
        uplink: Uplink | None = None,
    ) -> None:
        from cloud_sync import Uplink  # the outbox and sqlite3 load with the first cloud sink, not with the package

        super().__init__(name)
        self.device = device
        self.boot_id = boot_id
        self.uplink = uplink or Uplink(config, device)
        self._priority = _priority_function(priority_of)
        self._stats = stats
        self._stats_interval = stats_interval_s
        self._stats_seq = 0

    def publish_stats(self, stats: StatsProvider) -> None:
        """Send `stats()` every `stats_interval_s` from now on (set before `run`; the runtime's stats are known
        only once its streams are built, after the sinks)."""
        self._stats = stats

    def send(self, envelope: Envelope) -> None:
        self.uplink.put(envelope, priority=self._priority(str(envelope.get("stream", ""))))

    async def run(self) -> None:
        """Serve the uplink (entered by the runtime as one of its services, so the outbox outlives this task)."""
        if self._stats is None:
            await self.uplink.serve()
            return
        uplink = asyncio.create_task(self.uplink.serve(), name=f"sink-{self.name}-uplink")
        try:
            await self._publish_stats(uplink)
        finally:
            uplink.cancel()
            await asyncio.gather(uplink, return_exceptions=True)

    async def close(self) -> None:
        await self.uplink.close()

    async def _publish_stats(self, uplink: asyncio.Task[None]) -> None:
        while not uplink.done():
            await asyncio.wait({uplink}, timeout=self._stats_interval)
            if not uplink.done():
                self.uplink.put(self.stats_envelope(), priority=outbox_priority("low"), ttl_s=self._stats_interval * 6)
        uplink.result()

    def stats_envelope(self) -> Envelope:
        assert self._stats is not None
        now = time.time()
        self._stats_seq += 1
        return {
            "device": self.device,
            "stream": STATS_STREAM,
            "seq": self._stats_seq,
            "boot_id": self.boot_id,
            "ts_capture": round(now, 6),
            "ts_result": round(now, 6),
            "kind": "stats",
            "payload": {"runtime": self._stats(), "uplink": self.uplink.stats()},
        }
