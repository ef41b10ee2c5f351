"""The runtime: the accelerator and the device's other services, the sinks, the status display and every stream.

Start-up is building objects (models are loaded and checked before any task starts); then `run` enters the
services in one `AsyncExitStack`, so shutdown is the stack unwinding, in the one order written in `run`:
  1. the sources are cancelled (SIGINT/SIGTERM, `--duration`, or `stop()`); their threads are joined;
  2. each stream drains what it already accepted: dispatch ends, outcomes are collected;
  3. the stages flush (open windows close, open tracks end) into the sinks; the sinks close (files flushed,
     the outbox committed);
  4. the background parts (sink tasks, model updates, status) are cancelled;
  5. the services exit in reverse order of entry: the accelerator last (queued jobs dropped, lanes joined).
If draining takes longer than `drain_timeout`, the streams are cancelled too and step 3 still runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from edge_runtime._compat import TaskGroup
from edge_runtime.config import StreamConfig
from edge_runtime.engine._abandon import abandonable
from edge_runtime.engine._heap import settled_heap
from edge_runtime.engine._status import StatusDisplay
from edge_runtime.engine._stream import StreamRunner
from edge_runtime.sinks import Sink
from edge_runtime.sources import Source

log = logging.getLogger(__name__)
Background = Callable[[], Coroutine[Any, Any, None]]
Service = AbstractAsyncContextManager[object]
SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class StreamParts:
    runner: StreamRunner
    source: Source
    config: StreamConfig | None = None  # what it was built from (the console and hot reload read it)


class StreamTasks(NamedTuple):
    """A running stream: its source, and its dispatch and collect under one task (`drain`)."""

    source: asyncio.Task[None]
    drain: asyncio.Task[None]


@dataclass
class Runtime:
    """`services` are entered in order and exited in reverse: the accelerator first, so it stops last, after
    everything that submits to it; the device's cloud link goes after it, before the parts that publish."""

    streams: list[StreamParts]
    sinks: list[Sink]
    services: list[Service] = field(default_factory=list)
    background: dict[str, Background] = field(default_factory=dict)
    status: StatusDisplay | None = None
    drain_timeout: float = 2.5  # then the sinks close (<= 0.5 s) and the lanes stop (<= 1.5 s): under 5 s in all
    on_started: list[Callable[[], None]] = field(default_factory=list)  # the stream tasks run (readiness, READY=1)
    on_stopping: list[Callable[[], None]] = field(default_factory=list)  # an orderly stop began (STOPPING=1)

    def __post_init__(self) -> None:
        self._group: TaskGroup | None = None  # the streams' task group while they run (hot reload adds to it)
        self._running: dict[str, StreamTasks] = {}  # by stream name: what `stop` and `remove_stream` act on
        self._drain_deadline: asyncio.TimerHandle | None = None  # set by the first `stop()`
        self.failed: list[str] = []  # background parts that stopped with an error (the others keep running)

    async def run(self, duration: float | None = None) -> None:
        loop = asyncio.get_running_loop()
        started = time.monotonic()
        async with contextlib.AsyncExitStack() as stack:
            stack.callback(_remove_signal_handlers, loop)
            for sig in SIGNALS:
                with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread / not supported
                    loop.add_signal_handler(sig, self.stop)
            for service in self.services:  # the accelerator, then the cloud link (when the device has one)
                await stack.enter_async_context(service)
            infra = await stack.enter_async_context(TaskGroup())
            stack.callback(infra.create_task(self._background(started), name="background").cancel)
            stack.push_async_callback(self._finish)
            stack.callback(infra.create_task(self._tick(), name="ticker").cancel)  # no tick into a closing sink
            if duration is not None:
                loop.call_later(duration, self.stop)
            stack.enter_context(settled_heap())  # start-up is done: full collections leave its objects out
            await self._run_streams()

    def stop(self) -> None:
        """Begin an orderly stop: cancel the sources, let the streams drain. A second call (a second Ctrl-C)
        stops draining at once."""
        if self._drain_deadline is not None:
            self._drain_deadline.cancel()
            self._cancel_streams()
            return
        log.info("stopping: draining streams")
        for hook in self.on_stopping:
            hook()
        for parts in self.streams:
            parts.runner.channel.close()  # what is queued drains; a capture thread's later puts are refused
        for tasks in self._running.values():
            tasks.source.cancel()
        self._drain_deadline = asyncio.get_running_loop().call_later(self.drain_timeout, self._cancel_streams)

    async def _run_streams(self) -> None:
        async with TaskGroup() as group:
            self._group = group
            for parts in self.streams:
                self._start_stream(group, parts)
            if self._drain_deadline is not None:  # stopped before the streams started
                for tasks in self._running.values():
                    tasks.source.cancel()
            for hook in self.on_started:
                hook()
        self._group = None

    def _start_stream(self, group: TaskGroup, parts: StreamParts) -> None:
        name = parts.runner.name
        source = group.create_task(abandonable(f"stream {name!r}: source", self._source(parts)), name=f"source:{name}")
        drain = group.create_task(abandonable(f"stream {name!r}", self._drain(parts)), name=f"stream:{name}")
        self._running[name] = StreamTasks(source, drain)

    @staticmethod
    async def _drain(parts: StreamParts) -> None:
        async with TaskGroup() as group:
            group.create_task(parts.runner.dispatch(), name=f"dispatch:{parts.runner.name}")
            group.create_task(parts.runner.collect(), name=f"collect:{parts.runner.name}")

    def add_stream(self, parts: StreamParts) -> None:
        """Start one more stream in the running task group (hot reload); the others are not touched."""
        if self._group is None or self._drain_deadline is not None:
            raise RuntimeError("the runtime is not running")
        self.streams.append(parts)
        self._start_stream(self._group, parts)

    async def remove_stream(self, name: str) -> None:
        """Stop one stream as a whole stop would (its source ends, it drains, its stages flush into the sinks);
        the other streams and the sinks keep running."""
        parts = next(p for p in self.streams if p.runner.name == name)
        tasks = self._running.pop(name)
        parts.runner.channel.close()
        tasks.source.cancel()
        _, late = await asyncio.wait([tasks.drain], timeout=self.drain_timeout)
        if late:
            log.warning("stream %r did not drain in time: cancelled", name)
            tasks.drain.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)  # bounded: a task that will not stop is abandoned
        parts.runner.flush()
        self.streams.remove(parts)

    def _cancel_streams(self) -> None:
        for name, tasks in self._running.items():
            if not tasks.drain.done():
                log.warning("stream %r did not drain in time: cancelled", name)
                tasks.drain.cancel()

    @staticmethod
    async def _source(parts: StreamParts) -> None:
        try:
            await parts.source.run(parts.runner.channel)
        except asyncio.CancelledError:
            pass  # stop: the stream drains what it has
        except Exception as exc:  # a source that dies never takes the runtime or the other streams down
            log.error("stream %r: source stopped: %s: %s", parts.runner.name, type(exc).__name__, exc)
        finally:
            parts.runner.channel.close()

    async def _background(self, started: float) -> None:
        """The parts that run beside the streams until the end: background parts, sink tasks, the status line."""
        async with TaskGroup() as group:
            for name, part in self.background.items():
                group.create_task(abandonable(name, self._guard(name, part)), name=name)
            for sink in self.sinks:
                name = f"sink:{sink.name}"
                group.create_task(abandonable(name, self._guard(name, sink.run)), name=name)
            if self.status is not None:
                group.create_task(abandonable("status", self.status.run(started)), name="status")

    async def _guard(self, name: str, part: Background) -> None:
        """A background part that fails (a cloud link whose TLS file went bad, model updates, ...) is reported in
        one line naming it and fails alone: the streams and the other parts keep running (a cloud sink still
        stores what it is sent in its outbox). The run then ends with exit status 1."""
        try:
            await part()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("%s stopped: %s: %s (the streams keep running without it)", name, type(exc).__name__, exc)
            self.failed.append(name)

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            now = time.time()
            for parts in self.streams:
                parts.runner.tick(now)

    async def _finish(self) -> None:
        for parts in self.streams:
            parts.runner.flush()
        for sink in self.sinks:
            try:
                await sink.close()
            except Exception as exc:  # one sink failing to close must not keep the others open
                log.error("sink %r: close failed: %s", sink.name, exc)
        if self.status is not None:
            self.status.final()


def _remove_signal_handlers(loop: asyncio.AbstractEventLoop) -> None:
    for sig in SIGNALS:
        loop.remove_signal_handler(sig)
