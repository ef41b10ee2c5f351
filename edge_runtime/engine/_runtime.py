"""The runtime: one task group owning the accelerator, the sinks, the status display and every stream.

Start-up is building objects (models are loaded and checked before any task starts); shutdown is
cancellation, in one order written once here:
  1. the source tasks are cancelled (SIGINT/SIGTERM, `--duration`, or `stop()`); their threads are joined;
  2. each stream drains what it already accepted: dispatch ends, outcomes are collected;
  3. the stages flush (open windows close, open tracks end) into the sinks; the sinks close (files flushed,
     the outbox committed);
  4. the accelerator and sink tasks are cancelled; lane threads are joined.
If draining takes longer than `drain_timeout`, the stream tasks are cancelled too and step 3 still runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from edge_runtime._compat import TaskGroup
from edge_runtime.config import StreamConfig
from edge_runtime.engine._status import StatusDisplay
from edge_runtime.engine._stream import StreamRunner
from edge_runtime.sinks import Sink
from edge_runtime.sources import Source

log = logging.getLogger(__name__)
Background = Callable[[], Coroutine[Any, Any, None]]


@dataclass
class StreamParts:
    runner: StreamRunner
    source: Source
    config: StreamConfig | None = None  # what it was built from (the console and hot reload read it)


@dataclass
class Runtime:
    streams: list[StreamParts]
    sinks: list[Sink]
    background: dict[str, Background] = field(default_factory=dict)
    status: StatusDisplay | None = None
    drain_timeout: float = 2.5  # then the sinks close (<= 0.5 s) and the lanes stop (<= 1.5 s): under 5 s in all
    on_started: list[Callable[[], None]] = field(default_factory=list)  # the stream tasks run (readiness, READY=1)
    on_stopping: list[Callable[[], None]] = field(default_factory=list)  # an orderly stop began (STOPPING=1)

    def __post_init__(self) -> None:
        self._source_tasks: list[asyncio.Task[None]] = []
        self._stream_tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._group: TaskGroup | None = None
        self._tasks_of: dict[str, tuple[asyncio.Task[None], ...]] = {}  # a stream's source, dispatch, collect
        self.failed: list[str] = []  # background parts that stopped with an error (the run then stops too)

    async def run(self, duration: float | None = None) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread / not supported
                loop.add_signal_handler(sig, self.stop)
        if duration is not None:
            loop.call_later(duration, self.stop)
        started = time.monotonic()
        async with TaskGroup() as infra:
            infra_tasks = [
                infra.create_task(self._guard(name, coro), name=name) for name, coro in self.background.items()
            ]
            infra_tasks += [
                infra.create_task(self._guard(f"sink:{sink.name}", sink.run), name=f"sink:{sink.name}")
                for sink in self.sinks
            ]
            if self.status is not None:
                infra_tasks.append(infra.create_task(self.status.run(started), name="status"))
            ticker = infra.create_task(self._tick(), name="ticker")
            infra_tasks.append(ticker)
            try:
                await self._run_streams()
            finally:
                ticker.cancel()  # no tick may reach a sink that is closing
                await self._finish(infra_tasks)
                for sig in (signal.SIGINT, signal.SIGTERM):
                    loop.remove_signal_handler(sig)

    def stop(self) -> None:
        """Begin an orderly stop: cancel the sources, let the streams drain. A second call (a second Ctrl-C)
        stops draining at once."""
        if self._stopping:
            self._cancel_streams()
            return
        self._stopping = True
        log.info("stopping: draining streams")
        for hook in self.on_stopping:
            hook()
        for parts in self.streams:
            parts.runner.channel.close()  # what is queued drains; a capture thread's later puts are refused
        for task in self._source_tasks:
            task.cancel()
        asyncio.get_running_loop().call_later(self.drain_timeout, self._cancel_streams)

    async def _run_streams(self) -> None:
        async with TaskGroup() as group:
            self._group = group
            for parts in self.streams:
                self._start_stream(group, parts)
            if self._stopping:
                self._cancel_sources()
            for hook in self.on_started:
                hook()

    def _start_stream(self, group: TaskGroup, parts: StreamParts) -> None:
        name = parts.runner.name
        tasks = (
            group.create_task(self._source(parts), name=f"source:{name}"),
            group.create_task(parts.runner.dispatch(), name=f"dispatch:{name}"),
            group.create_task(parts.runner.collect(), name=f"collect:{name}"),
        )
        self._source_tasks.append(tasks[0])
        self._stream_tasks.extend(tasks[1:])
        self._tasks_of[name] = tasks

    def add_stream(self, parts: StreamParts) -> None:
        """Start one more stream in the running task group (hot reload); the others are not touched."""
        if self._group is None or self._stopping:
            raise RuntimeError("the runtime is not running")
        self.streams.append(parts)
        self._start_stream(self._group, parts)

    async def remove_stream(self, name: str) -> None:
        """Stop one stream as a whole stop would (its source ends, it drains, its stages flush into the sinks);
        the other streams and the sinks keep running."""
        parts = next(p for p in self.streams if p.runner.name == name)
        source, *stream_tasks = self._tasks_of.pop(name)
        parts.runner.channel.close()
        source.cancel()
        _, late = await asyncio.wait(stream_tasks, timeout=self.drain_timeout)
        for task in late:
            log.warning("stream task %s did not drain in time: cancelled", task.get_name())
            task.cancel()
        await asyncio.gather(source, *stream_tasks, return_exceptions=True)
        parts.runner.flush()
        self.streams.remove(parts)
        self._source_tasks.remove(source)
        for task in stream_tasks:
            self._stream_tasks.remove(task)

    def _cancel_sources(self) -> None:
        for task in self._source_tasks:
            task.cancel()

    def _cancel_streams(self) -> None:
        for task in self._stream_tasks:
            if not task.done():
                log.warning("stream task %s did not drain in time: cancelled", task.get_name())
                task.cancel()

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

    async def _guard(self, name: str, part: Background) -> None:
        """A background part that fails is reported in one line and stops the runtime in order."""
        try:
            await part()
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.error("%s stopped: %s: %s", name, type(exc).__name__, exc)
            self.failed.append(name)
            self.stop()

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            now = time.time()
            for parts in self.streams:
                parts.runner.tick(now)

    async def _finish(self, infra_tasks: list[asyncio.Task[None]]) -> None:
        for parts in self.streams:
            parts.runner.flush()
        for sink in self.sinks:
            try:
                await sink.close()
            except Exception as exc:  # one sink failing to close must not keep the others open
                log.error("sink %r: close failed: %s", sink.name, exc)
        if self.status is not None:
            self.status.final()
        for task in infra_tasks:
            task.cancel()
