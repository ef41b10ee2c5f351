"""The runtime's lifecycle: services entered in one exit stack, shutdown in the one order `Runtime.run` writes.

Real sources, a real model and the real accelerator service; the only stand-ins are a recording sink and a
recording service that take the places of the outbox sink and the cloud link.
"""

from __future__ import annotations

import asyncio
import threading
import time
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from types import TracebackType
from typing import Any

from cloud_sync import Envelope
from edge_runtime.config import load_config
from edge_runtime.engine import build_runtime
from edge_runtime.sinks import Sink
from tests.engine.test_runtime import DIGITS, LABELS
from tests.scheduler.jobs import SleepModel


class Recorder:
    """A service that notes when it is entered and left (around `inner`, when it wraps one)."""

    def __init__(self, name: str, events: list[str], inner: AbstractAsyncContextManager[Any] | None = None) -> None:
        self.name = name
        self.events = events
        self.inner = inner

    async def __aenter__(self) -> Recorder:
        self.events.append(f"enter {self.name}")
        if self.inner is not None:
            await self.inner.__aenter__()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.events.append(f"exit {self.name} ({_lanes()} lanes running)")
        if self.inner is not None:
            await self.inner.__aexit__(kind, exc, tb)
            self.events.append(f"left {self.name} ({_lanes()} lanes running)")


def _lanes() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("lane-"))


class RecordingSink(Sink):
    def __init__(self, events: list[str]) -> None:
        super().__init__("recording")
        self.events = events
        self.received = 0

    def send(self, envelope: Envelope) -> None:
        self.received += 1

    async def close(self) -> None:
        self.events.append("close sink")


def synthetic_config(tmp_path: Path) -> Path:
    path = tmp_path / "cfg.yaml"
    path.write_text(
        f"""\
accelerator: {{threads: 1}}
models:
  digits: {{path: {DIGITS}, labels: {LABELS}, decoder: classification}}
streams:
  digits:
    source: {{type: synthetic, fps: 30, width: 32, height: 32}}
    pipeline: [{{type: infer, model: digits}}]
    sinks: [mem]
sinks:
  mem: {{type: memory}}
http: {{enabled: false}}
"""
    )
    return path


def test_shutdown_unwinds_the_services_in_reverse_order_after_the_sinks_close(tmp_path: Path) -> None:
    cfg = synthetic_config(tmp_path)
    events: list[str] = []
    sink = RecordingSink(events)
    runtime, service = build_runtime(load_config(cfg), cfg.parent, display="off", extra_sinks={"mem": sink})
    runtime.services = [Recorder("accelerator", events, inner=service), Recorder("link", events)]
    asyncio.run(runtime.run(duration=1.0))
    assert events == [
        "enter accelerator",
        "enter link",
        "close sink",
        "exit link (1 lanes running)",
        "exit accelerator (1 lanes running)",
        "left accelerator (0 lanes running)",
    ]
    assert sink.received > 0
    stats = runtime.streams[0].runner.stats
    assert stats.offered > 0
    assert stats.offered == stats.completed + stats.drops.total - stats.drops.snapshot().get("fps_cap", 0)


def test_a_second_stop_ends_the_drain_at_once(tmp_path: Path) -> None:
    """Two stops (a second Ctrl-C) while a lane is held (a hung model) and the drain budget is a minute: the streams are
    cancelled, not waited for, and every frame is still accounted."""
    cfg = synthetic_config(tmp_path)
    runtime, service = build_runtime(load_config(cfg), cfg.parent, display="off")
    model = SleepModel(name="digits")
    model.gate = threading.Event()  # the lane holds its first job until the test ends
    service.set_model("digits", model)
    runtime.drain_timeout = 60.0
    took: list[float] = []

    async def main() -> None:
        loop = asyncio.get_running_loop()
        run = asyncio.create_task(runtime.run())
        await asyncio.to_thread(model.started.wait, 10)
        started = time.monotonic()
        runtime.stop()
        loop.call_soon(runtime.stop)
        await run
        took.append(time.monotonic() - started)

    try:
        asyncio.run(main())
    finally:
        model.gate.set()  # let the abandoned lane thread end, so no later test sees it
    assert took[0] < 5.0
    assert model.started.is_set()
    end = time.monotonic() + 10
    while _lanes() and time.monotonic() < end:
        time.sleep(0.01)
    assert _lanes() == 0
    stats = runtime.streams[0].runner.stats
    assert stats.offered == stats.completed + stats.drops.total - stats.drops.snapshot().get("fps_cap", 0)
