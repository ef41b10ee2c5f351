"""The reconnect loop MQTT sessions share (a source, a sensor gate): each end or loss told, then a backoff wait."""

from __future__ import annotations

import asyncio
import random

import pytest

from cloud_sync.backoff import Backoff
from cloud_sync.mqtt import LinkDown, keep_connected


def test_each_loss_is_told_with_its_delay_then_retried_after_the_wait_until_cancelled() -> None:
    events: list[tuple[str, ...]] = []
    ends = iter([LinkDown("connection refused"), None, LinkDown("keepalive timeout")])

    async def session() -> None:
        events.append(("session",))
        end = next(ends, None)
        if end is None and len(events) > 6:
            await asyncio.Event().wait()  # connected for good: stays until cancelled
        if end is not None:
            raise end

    def down(error: str, delay: float) -> None:
        assert 0 < delay <= 0.02
        events.append(("down", error))

    async def main() -> None:
        backoff = Backoff(0.005, 0.02, random.Random(1))
        task = asyncio.create_task(keep_connected(session, backoff, down, lambda: events.append(("retrying",))))
        for _ in range(200):
            await asyncio.sleep(0.01)
            if events.count(("session",)) == 4:
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert events == [
        ("session",), ("down", "connection refused"), ("retrying",),
        ("session",), ("down", "connection closed"), ("retrying",),
        ("session",), ("down", "keepalive timeout"), ("retrying",),
        ("session",),
    ]  # fmt: skip


def test_an_error_other_than_link_down_is_not_swallowed() -> None:
    async def session() -> None:
        raise ValueError("a bug")

    with pytest.raises(ValueError, match="a bug"):
        asyncio.run(keep_connected(session, Backoff(0.001, 0.001), lambda error, delay: None))
