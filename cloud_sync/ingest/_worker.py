"""One ingest worker: a shared MQTT subscription in, batches committed to the database, then acknowledged.

Results, events, stats and model status come through ``$share/<group>/...`` so the broker splits them among
the workers of the group; device status (``online``/``offline``, retained) through a plain subscription, so each
worker sees the retained status of every device when it connects (brokers give no retained messages to shared
subscriptions). A message is acknowledged only after the transaction holding its row committed: a worker killed
mid-batch has its unacknowledged messages redelivered by the broker, and the UNIQUE key absorbs the repeats.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from cloud_sync.ingest._rows import MAX_BYTES, classify
from cloud_sync.ingest._store import Store, Written
from cloud_sync.listen_sources import MqttOptions, MqttSource

log = logging.getLogger("cloud_sync.ingest")


class SharedSource(MqttSource):
    """`MqttSource` (persistent session, acknowledge after store) on the shared ingest topics of `group`."""

    def __init__(self, options: MqttOptions, group: str, ready: Callable[[str], None]) -> None:
        super().__init__(options, ready)
        self.group = group

    def topics(self) -> list[str]:
        p, share = self.options.prefix, f"$share/{self.group}"
        shared = [f"{p}/+/results/+", f"{p}/+/events/+", f"{p}/+/stats", f"{p}/+/models/status"]
        return [*(f"{share}/{topic}" for topic in shared), f"{p}/+/status"]


@dataclass
class Totals:
    """What this worker stored since it started."""

    batches: int = 0
    inserted: int = 0
    duplicates: int = 0
    rejected: int = 0

    def add(self, written: Written) -> None:
        self.batches += 1
        self.inserted += written.inserted
        self.duplicates += written.duplicates
        self.rejected += written.rejected

    def line(self) -> str:
        return (f"{self.inserted} rows stored, {self.duplicates} duplicates ignored, {self.rejected} rejected, "
                f"{self.batches} batches")


async def ingest(source: MqttSource, store: Store, totals: Totals, max_bytes: int = MAX_BYTES) -> None:
    """Consume `source` forever: classify each batch, commit it in the database's thread, then acknowledge."""
    prefix = source.options.prefix
    async for batch in source.batches():
        rows = [classify(prefix, item.topic, item.payload, max_bytes) for item in batch]
        written = await asyncio.to_thread(store.write, rows)
        await source.ack()
        totals.add(written)
        if written.rejected:
            log.info("%d message(s) rejected (see the rejected table)", written.rejected)

