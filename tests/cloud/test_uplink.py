"""The uplink with the in-memory transport: put, drain, stop, back-pressure; and the config."""

from __future__ import annotations

import asyncio
import math
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from cloud_sync import CloudConfig, MemoryTransport, Outbox, Uplink, decode, topic_of
from tests.cloud.support import envelope


def _config(path: Path, **outbox: object) -> CloudConfig:
    return CloudConfig.model_validate({"outbox": {"path": str(path), **outbox}})


async def _until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_put_is_delivered_in_priority_order_with_topics(tmp_path: Path) -> None:
    async def scenario() -> MemoryTransport:
        transport = MemoryTransport("dev1")
        transport.cut()  # hold delivery so priorities meet in the outbox
        uplink = Uplink(_config(tmp_path / "o.db"), "dev1", transport)
        runner = asyncio.create_task(uplink.run())
        uplink.put(envelope(0, stream="low"), priority=0)
        uplink.put(envelope(0, stream="alarm", kind="alert"), priority=3)
        uplink.put(envelope(0, stream="_stats", kind="stats"), priority=1)
        await _until(lambda: uplink.stats()["committed"] == 3)
        transport.restore()
        await _until(lambda: uplink.delivered == 3)
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        return transport

    transport = asyncio.run(scenario())
    topics = [m.topic for m in transport.delivered]
    assert topics == ["edge/dev1/events/alarm", "edge/dev1/stats", "edge/dev1/results/low"]


def test_cancel_commits_what_was_accepted(tmp_path: Path) -> None:
    async def scenario() -> int:
        transport = MemoryTransport("dev1")
        transport.cut()
        uplink = Uplink(_config(tmp_path / "o.db"), "dev1", transport)
        runner = asyncio.create_task(uplink.run())
        await asyncio.sleep(0.05)
        accepted = sum(uplink.put(envelope(i)) for i in range(500))
        runner.cancel()  # at once: the committer must still store all 500
        await asyncio.gather(runner, return_exceptions=True)
        return accepted

    assert asyncio.run(scenario()) == 500
    box = Outbox(tmp_path / "o.db", max_bytes=10**9)
    assert box.entries == 500
    box.close()


def test_close_before_run_commits(tmp_path: Path) -> None:
    async def scenario() -> None:
        uplink = Uplink(_config(tmp_path / "o.db"), "dev1", MemoryTransport("dev1"))
        for i in range(10):
            uplink.put(envelope(i), ttl_s=math.inf)
        await uplink.close()

    asyncio.run(scenario())
    box = Outbox(tmp_path / "o.db", max_bytes=10**9)
    assert box.entries == 10
    box.close()


@pytest.mark.parametrize("policy", ["reject", "drop_oldest_lowest"])
def test_outbox_at_cap_applies_policy_and_reports_drops(tmp_path: Path, policy: str) -> None:
    async def scenario() -> dict[str, object]:
        transport = MemoryTransport("dev1")
        transport.cut()  # the link is down: everything piles up in the outbox
        uplink = Uplink(_config(tmp_path / "o.db", max_bytes=20_000, policy=policy, batch_size=10), "dev1", transport)
        runner = asyncio.create_task(uplink.run())
        refused = 0
        for i in range(300):
            refused += not uplink.put(envelope(i), priority=1)
            await asyncio.sleep(0.001)
        await uplink.close()
        stats = uplink.stats()
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        stats["refused_by_put"] = refused
        return stats

    stats = asyncio.run(scenario())
    drops = stats["drops"]
    outbox = stats["outbox"]
    assert isinstance(drops, dict)
    assert isinstance(outbox, dict)
    stored = outbox["entries"]
    assert outbox["bytes"] <= 20_000
    if policy == "reject":
        assert drops.get("outbox_full", 0) > 0
        assert "outbox_evicted" not in drops
        assert stored + drops["outbox_full"] == 300, "every envelope is either stored or counted"
        assert int(str(stats["refused_by_put"])) > 0, "put() pushes back once the outbox is full"
    else:
        assert drops.get("outbox_evicted", 0) > 0
        assert "outbox_full" not in drops
        assert stored + drops["outbox_evicted"] == 300, "every envelope is either stored or counted"


def test_a_refused_low_entry_does_not_block_higher_ones(tmp_path: Path) -> None:
    """drop_oldest_lowest: a low entry refused at the cap must not make put() refuse normal and critical ones."""

    async def scenario() -> tuple[list[bool], dict[str, int]]:
        transport = MemoryTransport("dev1")
        transport.cut()  # the link is down: the outbox fills up
        # Small batches: the (at most two) batches the drain holds for the link cannot be evicted.
        config = _config(tmp_path / "o.db", max_bytes=3_000, policy="drop_oldest_lowest", batch_size=2)
        uplink = Uplink(config, "dev1", transport)
        runner = asyncio.create_task(uplink.run())
        await _until(lambda: uplink.outbox is not None)
        for i in range(20):
            uplink.put(envelope(i), priority=1)
        await uplink.close()  # committed: the oldest normal entries were evicted to fit the newer
        uplink.put(envelope(0, stream="_stats", kind="stats"), priority=0)
        await uplink.close()  # nothing at or below low to evict: refused
        refused_low = uplink.drops.snapshot()
        accepted = [uplink.put(envelope(100 + i), priority=1) for i in range(3)]
        accepted += [uplink.put(envelope(i, stream="alarm", kind="alert"), priority=3) for i in range(2)]
        await uplink.close()
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
        after = uplink.drops.snapshot()
        assert refused_low.get("outbox_full") == 1
        assert after["outbox_evicted"] >= refused_low["outbox_evicted"] + 5, "the new ones evicted older normal"
        return accepted, after

    accepted, drops = asyncio.run(scenario())
    assert accepted == [True] * 5
    assert drops.get("outbox_full") == 1, "only the low entry was refused"
    box = Outbox(tmp_path / "o.db", max_bytes=10**9)
    stored = {(e["stream"], e["seq"]) for e in (decode(m.payload) for m in box.fetch(100))}
    box.close()
    assert {("porch", 100), ("porch", 101), ("porch", 102), ("alarm", 0), ("alarm", 1)} <= stored
    assert ("_stats", 0) not in stored


def test_stop_while_the_outbox_is_opening_commits_and_closes(tmp_path: Path) -> None:
    """Another process holds the outbox file, so the open waits: a stop in that window loses nothing."""
    path = tmp_path / "o.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE other (x)")  # a rollback-journal file: an exclusive lock blocks readers
    holder.execute("BEGIN EXCLUSIVE")
    threads_before = set(threading.enumerate())

    async def scenario() -> int:
        uplink = Uplink(_config(path), "dev1", MemoryTransport("dev1"))
        runner = asyncio.create_task(uplink.run())
        await asyncio.sleep(0.2)
        assert uplink.outbox is None, "still opening"
        accepted = sum(uplink.put(envelope(i), ttl_s=math.inf) for i in range(10))
        runner.cancel()  # the runtime stops before the outbox is open
        asyncio.get_running_loop().call_later(0.3, holder.rollback)  # the other process lets go
        await asyncio.gather(runner, return_exceptions=True)
        await uplink.close()
        return accepted

    try:
        accepted = asyncio.run(scenario())
    finally:
        holder.rollback()
        holder.close()
    left = [t.name for t in threading.enumerate() if t not in threads_before and t.name.startswith("outbox")]
    assert left == [], "the committer and the drain thread are closed"
    box = Outbox(path, max_bytes=10**9)
    assert (accepted, box.entries) == (10, 10)
    box.close()


def test_topics_follow_kind() -> None:
    assert topic_of("edge", envelope(1, kind="event")) == "edge/dev1/events/porch"
    assert topic_of("site", envelope(1)) == "site/dev1/results/porch"


def test_config_units_and_one_link() -> None:
    config = CloudConfig.model_validate({"outbox": {"max_bytes": "64MiB", "ttl": "7d"}})
    assert config.outbox.max_bytes == 64 * 1024**2
    assert config.outbox.ttl == 7 * 86400
    assert config.link == "none"
    with pytest.raises(ValidationError, match="not both"):
        CloudConfig.model_validate({"mqtt": {"host": "a"}, "zmq": {"endpoint": "tcp://a:1"}})
    with pytest.raises(ValidationError, match="not a size"):
        CloudConfig.model_validate({"outbox": {"max_bytes": "12 parsecs"}})
    with pytest.raises(ValidationError, match="Extra inputs"):
        CloudConfig.model_validate({"outbox": {"max_byte": 1}})
