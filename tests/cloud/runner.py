"""An Uplink driven from a test: its own event loop in a thread, producing envelopes at a steady rate."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from cloud_sync import CloudConfig, Transport, Uplink
from tests.cloud.support import envelope


class UplinkThread:
    """Runs `Uplink.run()` plus a producer of `rate` envelopes/s over `streams`, until `stop()`."""

    def __init__(self, config: CloudConfig, rate: float = 200.0, streams: tuple[str, ...] = ("porch", "yard"),
                 transport_factory: Any = None, boot_id: str = "boot-a") -> None:
        self.config = config
        self.rate = rate
        self.streams = streams
        self.boot_id = boot_id
        self.uplink: Uplink | None = None
        self.produced = 0
        self.accepted = 0
        self._factory = transport_factory
        self._producing = threading.Event()
        self._producing.set()
        self._loop = asyncio.new_event_loop()
        self._main: asyncio.Task[None] | None = None
        self._thread = threading.Thread(target=self._loop.run_until_complete, args=(self._run(),), name="uplink-test")
        self.error: BaseException | None = None

    def start(self) -> UplinkThread:
        self._thread.start()
        while self.uplink is None:
            time.sleep(0.01)
        return self

    async def _run(self) -> None:
        transport: Transport | None = self._factory() if self._factory else None
        self.uplink = Uplink(self.config, "dev1", transport)
        self._main = asyncio.current_task()
        runner = asyncio.create_task(self.uplink.run(), name="uplink")
        try:
            await self._produce()
        except asyncio.CancelledError:
            pass
        finally:
            runner.cancel()
            results = await asyncio.gather(runner, return_exceptions=True)
            if isinstance(results[0], Exception):
                self.error = results[0]

    async def _produce(self) -> None:
        assert self.uplink is not None
        seq = 0
        start = time.monotonic()
        while True:
            if self._producing.is_set():
                for stream in self.streams:
                    self.accepted += self.uplink.put(envelope(seq, stream=stream, boot_id=self.boot_id))
                    self.produced += 1
                seq += 1
            delay = start + self.produced / self.rate - time.monotonic()
            await asyncio.sleep(max(delay, 0.001) if self._producing.is_set() else 0.05)

    def pause(self) -> None:
        self._producing.clear()

    def stats(self) -> dict[str, Any]:
        assert self.uplink is not None
        return self.uplink.stats()

    def wait_delivered(self, n: int, timeout: float = 20.0) -> int:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.uplink is not None and self.uplink.delivered < n:
            time.sleep(0.05)
        return self.uplink.delivered if self.uplink is not None else 0

    def finish(self) -> int:
        """Stop producing and wait until everything produced is confirmed delivered; returns how many."""
        self.pause()
        produced = self.produced
        assert self.wait_delivered(produced) == produced, "not everything produced was delivered"
        return produced

    def stop(self) -> None:
        main = self._main
        if main is not None:
            self._loop.call_soon_threadsafe(main.cancel)
        self._thread.join(timeout=15)
        self._loop.close()
