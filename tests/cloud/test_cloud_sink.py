"""The runtime's cloud sink over the in-memory transport."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from cloud_sync import CloudConfig, MemoryTransport, Uplink
from edge_runtime.sinks.cloud import CloudSink
from tests.cloud.support import envelope


def test_cloud_sink_prioritises_streams_and_publishes_stats(tmp_path: Path) -> None:
    async def scenario() -> MemoryTransport:
        config = CloudConfig.model_validate({"outbox": {"path": str(tmp_path / "o.db")}})
        transport = MemoryTransport("dev1")
        transport.cut()
        sink = CloudSink(config, "dev1", "boot-a", {"porch": "low", "door": "critical"},
                         stats=lambda: {"frames": 7}, stats_interval_s=0.1, uplink=Uplink(config, "dev1", transport))
        async with sink.uplink:  # what the runtime does: the uplink is one of its services
            runner = asyncio.create_task(sink.run())
            sink.send(envelope(0, stream="porch"))
            sink.send(envelope(0, stream="door"))
            await asyncio.sleep(0.35)
            await sink.close()
            transport.restore()
            await asyncio.sleep(0.2)
            runner.cancel()
            await asyncio.gather(runner, return_exceptions=True)
        return transport

    transport = asyncio.run(scenario())
    topics = [m.topic for m in transport.delivered]
    assert topics[0] == "edge/dev1/results/door"
    assert topics[1] == "edge/dev1/results/porch"  # low, like stats, and older than every stats envelope
    assert set(topics[2:]) == {"edge/dev1/stats"}
    stats = json.loads(next(m.payload for m in transport.delivered if m.topic.endswith("/stats")))
    assert stats["payload"]["runtime"] == {"frames": 7}
    assert stats["kind"] == "stats"
