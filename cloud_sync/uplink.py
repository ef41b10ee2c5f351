"""The uplink: outbox plus transport. `put` from the event loop, `run` in the runtime's task group.

put() -> bounded buffer -> committer thread (group commits into the outbox) -> drain (highest priority first)
-> transport.publish (many in flight) -> confirmed ids deleted. ``async with uplink`` opens the outbox and starts
the committer; `serve()` runs the link and the drain until cancelled; leaving commits what was accepted, and the
link is closed cleanly: unconfirmed entries stay in the outbox for the next start. `run()` is both in one.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from cloud_sync._committer import Committer
from cloud_sync.backoff import Backoff
from cloud_sync.config import CloudConfig
from cloud_sync.counters import COMMIT_FAILED, OUTBOX_FULL, Drops
from cloud_sync.envelope import Envelope, Key, Message
from cloud_sync.links import make_transport
from cloud_sync.outbox import Outbox
from cloud_sync.transport import Transport

T = TypeVar("T")
CLOSE_SEND_S = 2.0  # on a clean stop with the link up, how long `close` lets the drain send what is stored


class Uplink:
    """Owns the outbox and the transport of one device."""

    def __init__(
        self,
        config: CloudConfig,
        device: str,
        transport: Transport | None = None,
        *,
        on_commit: Callable[[list[Key]], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.device = device
        self.drops = Drops()
        self.transport: Transport = transport or make_transport(config, device)
        self.delivered = 0
        self._on_commit = on_commit
        self._clock = clock
        box = config.outbox
        self._committer = Committer(box.buffer, box.batch_size, config.topic_prefix, self.drops)
        self._db = ThreadPoolExecutor(1, thread_name_prefix="outbox-drain")
        self._outbox: Outbox | None = None
        self._wake: asyncio.Event | None = None
        self._idle: asyncio.Event | None = None  # set while the drain has nothing to send
        self._loop: asyncio.AbstractEventLoop | None = None
        self._opening: Future[Outbox] | None = None  # the open, once begun (in the drain thread)
        self._resources = contextlib.ExitStack()  # the outbox, then its committer: left in reverse at shutdown

    @property
    def outbox(self) -> Outbox | None:
        """The open outbox (None before `run` opened it)."""
        return self._outbox

    def put(self, envelope: Envelope, priority: int = 1, ttl_s: float | None = None) -> bool:
        """Accept an envelope; never blocks. False when refused (counted): buffer full, or outbox full under
        policy ``reject`` (back-pressure). `ttl_s` None: the configured TTL; ``math.inf``: never expires."""
        outbox = self._outbox
        if outbox is not None and outbox.full:
            self.drops.add(OUTBOX_FULL)
            return False
        ttl = self.config.outbox.ttl if ttl_s is None else ttl_s
        expires = None if ttl is None or math.isinf(ttl) else self._clock() + ttl
        return self._committer.offer((envelope, priority, expires))

    async def __aenter__(self) -> Uplink:
        """Open the outbox (in the drain thread: the integrity check of a large file may take a while) and start
        the committer. Cancelled meanwhile, it still waits for the open, commits what was accepted and closes."""
        self._loop = loop = asyncio.get_running_loop()
        self._wake, self._idle = asyncio.Event(), asyncio.Event()
        try:
            await asyncio.shield(asyncio.wrap_future(self._begin()))
        except BaseException:
            await loop.run_in_executor(None, self._shutdown)
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        """Commit what was accepted and close the outbox; unconfirmed entries stay in it for the next start."""
        await asyncio.get_running_loop().run_in_executor(None, self._shutdown)

    async def serve(self) -> None:
        """Inside ``async with uplink``: keep the link up and drain the outbox into it until cancelled."""
        outbox = self._outbox
        if outbox is None:
            raise RuntimeError("Uplink.serve() runs inside `async with uplink`")
        link = asyncio.create_task(self.transport.run(), name="cloud-link")
        drain = asyncio.create_task(self._drain(outbox), name="outbox-drain")
        try:
            done, _ = await asyncio.wait((link, drain), return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # a task only ends by failing: raise its error
        finally:
            link.cancel()
            drain.cancel()
            await asyncio.gather(link, drain, return_exceptions=True)

    async def run(self) -> None:
        """Commit, drain and keep the link up until cancelled (``async with self: await self.serve()``). Stopped at
        any moment, even while the outbox is still opening, it commits what was accepted and closes what it opened."""
        async with self:
            await self.serve()

    async def close(self) -> None:
        """Make everything accepted so far durable; while the uplink is entered and the link is up, also give the
        drain up to CLOSE_SEND_S to send it. Never entered: open, commit, close the outbox."""
        opening = self._opening
        if opening is None:
            async with self:
                return
        with contextlib.suppress(Exception):  # still opening: the committer starts after that
            await asyncio.shield(asyncio.wrap_future(opening))
        await asyncio.get_running_loop().run_in_executor(None, self._committer.flush)
        await self._send_stored()

    async def _send_stored(self) -> None:
        wake, idle = self._wake, self._idle
        if wake is None or idle is None or not self.transport.stats().get("connected"):
            return
        idle.clear()
        wake.set()  # the drain looks again, and says when it finds nothing left
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(idle.wait(), CLOSE_SEND_S)

    def stats(self) -> dict[str, Any]:
        outbox = self._outbox
        return {
            "committed": self._committer.committed,
            "delivered": self.delivered,
            "buffered": len(self._committer),
            "outbox": {
                "entries": outbox.entries if outbox else None,
                "bytes": outbox.bytes if outbox else None,
                "oldest_age_s": round(outbox.oldest_age_s, 3) if outbox else None,
                "max_bytes": self.config.outbox.max_bytes,
                "policy": self.config.outbox.policy,
                "moved_aside": str(outbox.moved_aside) if outbox and outbox.moved_aside else None,
            },
            "drops": self.drops.snapshot(),
            "link": self.transport.stats(),
        }

    def _begin(self) -> Future[Outbox]:
        """Open the outbox and start the committer in the drain thread (once; the open may take a while: an
        integrity check of a large file)."""
        if self._opening is None:
            self._opening = self._db.submit(self._open_and_start)
        return self._opening

    def _open_and_start(self) -> Outbox:
        box = self.config.outbox
        outbox = Outbox(box.path, box.max_bytes, box.policy, synchronous=box.synchronous, drops=self.drops,
                        clock=self._clock)  # fmt: skip
        self._outbox = self._resources.enter_context(contextlib.closing(outbox))
        self._resources.callback(self._db.shutdown, wait=True)  # no drain query left when the outbox closes
        self._resources.enter_context(self._committer.running(outbox, self._committed))
        return outbox

    def _shutdown(self) -> None:
        """Wait for the open, commit what was accepted, close what was opened (blocks: call from a thread).

        When the outbox could not be opened, what was accepted is counted as `commit_failed`."""
        opening = self._opening
        if opening is None or opening.cancelled() or opening.exception() is not None:
            self._committer.discard(COMMIT_FAILED)
        try:
            self._resources.close()  # the committer commits what was accepted and ends; the drain thread; the outbox
        finally:
            self._db.shutdown(wait=True)  # (again: harmless) when the outbox never opened

    def _committed(self, keys: list[Key]) -> None:
        """Committer thread: tell the caller, wake the drain."""
        if self._on_commit is not None:
            self._on_commit(keys)
        loop, wake = self._loop, self._wake
        if keys and loop is not None and wake is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(wake.set)

    async def _call(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    async def _drain(self, outbox: Outbox) -> None:
        """Send batches in outbox order, two publishes overlapping so the link never idles between batches."""
        size = self.config.outbox.batch_size
        backoff = Backoff(0.05, 2.0)
        inflight: deque[tuple[list[Message], asyncio.Future[list[int]]]] = deque()
        try:
            while True:
                while len(inflight) < 2:
                    follows = bool(inflight)  # fetched while the previous batch is in flight
                    batch = await self._call(outbox.fetch, size) if follows else await self._next_batch(outbox, size)
                    if not batch:
                        break
                    sending = asyncio.ensure_future(self.transport.publish(batch, follows=follows))
                    inflight.append((batch, sending))
                batch, publishing = inflight.popleft()
                complete = await self._settle(outbox, batch, await publishing)
                if complete:
                    backoff.reset()
                    continue
                # The link dropped: settle the overlapping publish too, then retry from the oldest unconfirmed.
                while inflight:
                    batch, publishing = inflight.popleft()
                    await self._settle(outbox, batch, await publishing)
                await asyncio.sleep(backoff.next())
        finally:
            for _, publishing in inflight:
                publishing.cancel()

    async def _settle(self, outbox: Outbox, batch: list[Message], confirmed: list[int]) -> bool:
        """Delete the confirmed, release the rest; True when all were confirmed."""
        await self._call(outbox.settle, [m.id for m in batch], confirmed)
        self.delivered += len(confirmed)
        return len(confirmed) == len(batch)

    async def _next_batch(self, outbox: Outbox, size: int) -> list[Message]:
        """Wait until the outbox has something to send."""
        assert self._wake is not None
        assert self._idle is not None
        while True:
            self._wake.clear()
            batch = await self._call(outbox.fetch, size)
            if batch:
                self._idle.clear()
                return batch
            self._idle.set()
            await self._wake.wait()
