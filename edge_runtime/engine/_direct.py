"""The direct path of a stream that infers and has no gates: its capture thread submits each frame itself.

The channel hands every item it is offered to `Inflight.take`, in the capture thread, while nothing is queued
in it. With room (fewer than `bound` frames in flight), the frame joins the in-flight deque, in capture order, and
goes to the accelerator service at once (`submit_from_thread`): a waiting lane starts on it with no hop through
the event loop. While the newest frame in flight is still queued there (a camera faster than the model), a newer
one takes its place in the service (`replace_from_thread`): the one it replaces is counted `superseded`, as the
policy would count it, with no new entry, token or report. Without room it stays in the channel, where the
source's overflow policy applies as on the loop's path (latest-wins: a newer frame replaces it and is counted),
and `pump` hands it over once a frame leaves. Before a frame goes on, the runtime's admission hooks see it, once
(`admit`: thermal shedding, which counts what it sheds, and the rings that keep recent frames for a canary or a
snapshot), in the capture thread, as they would see it on the loop's path.

Every frame's outcome is set on the loop (the lanes' reports wake it), and the loop delivers the deque's head
frames in capture order as soon as their outcomes are in: no task is woken for them. At a forced stop, what the
channel still holds and what was inferred but not delivered end as `shutdown` drops (the service counts its own).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import Any, Protocol

from edge_runtime.channel import Channel
from edge_runtime.drops import ERROR, SHUTDOWN, SUPERSEDED, DropCounter
from edge_runtime.frames import Frame, Item
from edge_runtime.jobs import Completed, Job, Outcome

log = logging.getLogger(__name__)

Deliver = Callable[[Item, "Outcome | None"], None]
Admit = Callable[[Job], bool]  # False: the frame is shed here (the hook counted it)


class DirectService(Protocol):
    """What the direct path asks of the accelerator service, from the capture thread."""

    def submit_from_thread(self, job: Job, token: Pending) -> None: ...

    def replace_from_thread(self, job: Job, token: Pending, swap: Callable[[Any], None]) -> bool: ...


class Pending:
    """One item in flight on the direct path; `set_result` (on the loop) gives it its outcome."""

    __slots__ = ("inflight", "item", "outcome", "ready")

    def __init__(self, item: Item, inflight: Inflight) -> None:
        self.item = item
        self.inflight = inflight
        self.outcome: Outcome | None = None
        self.ready = False

    def done(self) -> bool:
        return self.ready

    def set_result(self, outcome: Outcome, /) -> None:
        self.outcome, self.ready = outcome, True
        self.inflight.settled()

    def swap(self, frame: Frame) -> None:
        """A newer frame took this one's place in the service's queue (called under the service's lock)."""
        self.item = frame


class Inflight:
    """The direct path's frames in flight (at most `bound`), in capture order."""

    def __init__(
        self, channel: Channel[Item], model: str, service: DirectService, deliver: Deliver, *, drops: DropCounter,
        bound: int, admit: Admit | None = None,
    ) -> None:  # fmt: skip
        self.channel = channel
        self.model = model
        self.bound = bound
        self._service = service
        self._deliver = deliver
        self._drops = drops
        self._entries: deque[Pending] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: asyncio.Future[None] | None = None  # awaited by `run` after the channel closed
        self._cancelled = False
        self._admit = admit
        self._admitted: Frame | None = None  # the last frame the hooks let on (it may wait in the channel for room)

    def __len__(self) -> int:
        return len(self._entries)

    async def run(self) -> None:
        """Take frames until the channel is closed and every frame in flight is delivered (the `collect` task)."""
        self._loop = asyncio.get_running_loop()
        self.channel.hand_off(self.take)
        try:
            self.channel.pump()  # what the source offered before this started
            await self.channel.wait_closed()
            self.channel.pump()
            while self._entries:
                self._idle = self._loop.create_future()
                await self._idle
        except asyncio.CancelledError:
            self._drop_leftovers()
            raise
        finally:
            self.channel.hand_off(None)

    def take(self, item: Item) -> bool:
        """The channel's hand-off (any thread, under the channel's lock): False when the stream has no room."""
        entries = self._entries
        job = Job(self.model, item) if isinstance(item, Frame) else None
        if job is not None:
            if not self._admitted_now(job):
                return True  # shed before the accelerator
            if self._replace_newest(job):
                return True
        if len(entries) >= self.bound:
            return False
        entry = Pending(item, self)
        entries.append(entry)  # before the submit: the outcome, set on the loop, finds its entry
        if job is not None:
            self._service.submit_from_thread(job, entry)
        elif self._loop is not None:  # a reading: nothing to infer, delivered in its turn
            entry.ready = True
            self._loop.call_soon_threadsafe(self.settled)
        return True

    def _admitted_now(self, job: Job) -> bool:
        """Ask the admission hooks once per frame: one that waits in the channel for room is not asked again."""
        if self._admit is None or job.frame is self._admitted:
            return True
        self._admitted = job.frame
        return self._admit(job)

    def _replace_newest(self, job: Job) -> bool:
        """The job's frame takes the place of the newest one in flight if that one is still queued in the service."""
        try:
            newest = self._entries[-1]  # read once: the loop may deliver the last entry at any moment
        except IndexError:
            return False
        if newest.ready or not self._service.replace_from_thread(job, newest, newest.swap):
            return False
        self._drops.add(SUPERSEDED)  # the frame `newest` held, never run
        return True

    def settled(self) -> None:
        """On the loop, when an outcome is in: deliver the head entries that are ready, then refill from the
        channel (the room they leave)."""
        if self._cancelled:
            self._drop_ready()
            return
        entries = self._entries
        while entries and entries[0].ready:
            entry = entries.popleft()
            try:
                self._deliver(entry.item, entry.outcome)
            except Exception as exc:  # never into the service's batch of outcomes: the others still settle
                self._drops.add(ERROR)
                log.error("stream %r: delivering a result failed: %s: %s", entry.item.stream, type(exc).__name__, exc)
        self.channel.pump()
        if not entries and self._idle is not None and not self._idle.done():
            self._idle.set_result(None)

    def _drop_leftovers(self) -> None:
        """Cancelled: no more hand-offs; what the channel holds and what is in flight are never delivered."""
        self._cancelled = True
        self.channel.hand_off(None)
        self._drops.add(SHUTDOWN, len(self.channel.take_all()))  # offered, never submitted
        self._drop_ready()  # the rest are settled later by the service, and dropped here as they are

    def _drop_ready(self) -> None:
        """After a cancel: the entries with their outcome are never delivered. The service counted the ones it
        dropped; the ones it completed (and readings) are lost here, as `shutdown`."""
        for entry in [e for e in self._entries if e.ready]:
            self._entries.remove(entry)
            if entry.outcome is None or isinstance(entry.outcome, Completed):
                self._drops.add(SHUTDOWN)
