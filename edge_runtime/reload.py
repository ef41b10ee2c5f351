"""Hot reload: re-read the config (SIGHUP, `edge-runtime reload`, `POST /api/reload`) and apply the difference.

A config that does not validate is refused with the usual one-line errors; the running one keeps going.
Otherwise: a changed model is loaded off the loop and swapped in (`AcceleratorService.set_model`, the path a
model push takes); streams removed or changed stop alone (they drain and flush like a whole stop would);
streams added or changed start alone; unchanged streams are not touched. One log line per change.
Everything that can fail on the new config (a model file, a source path) fails before anything is changed.
Other sections (accelerator, sinks, cloud, http, status, device) take effect at the next restart, and say so.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from edge_runtime.config import ConfigError, RuntimeConfig, StreamConfig, load_config
from edge_runtime.inference import ModelError
from edge_runtime.sources import SourceError
from edge_runtime.updates import load_models

if TYPE_CHECKING:
    from edge_runtime.engine._runtime import Runtime, StreamParts
    from edge_runtime.jobs import ModelHandle
    from edge_runtime.scheduler import AcceleratorService

log = logging.getLogger(__name__)
RESTART_SECTIONS = ("device", "accelerator", "sinks", "cloud", "status", "http")
MakeStream = Callable[[str, StreamConfig], "StreamParts"]


@dataclass(frozen=True)
class Plan:
    added: list[str]
    removed: list[str]
    changed: list[str]
    models: list[str]  # added or changed models
    restart: list[str]  # sections that changed but apply only at restart

    @classmethod
    def between(cls, old: RuntimeConfig, new: RuntimeConfig) -> Plan:
        return cls(
            added=[n for n in new.streams if n not in old.streams],
            removed=[n for n in old.streams if n not in new.streams],
            changed=[n for n, s in new.streams.items() if n in old.streams and old.streams[n] != s],
            models=[n for n, m in new.models.items() if old.models.get(n) != m],
            restart=[s for s in RESTART_SECTIONS if getattr(old, s) != getattr(new, s)],
        )


class Reloader:
    def __init__(
        self,
        path: Path,
        config: RuntimeConfig,
        runtime: Runtime,
        service: AcceleratorService,
        make_stream: MakeStream,
        *,
        on_applied: list[Callable[[RuntimeConfig], None]] | None = None,
    ) -> None:
        self.path = path
        self.config = config
        self.runtime = runtime
        self.service = service
        self.make_stream = make_stream
        self.reloads = 0  # applied
        self.on_applied = on_applied or []  # told the new config once it is applied
        self._lock = asyncio.Lock()

    async def run(self) -> None:
        """Reload on SIGHUP until cancelled (a background part of the runtime)."""
        loop = asyncio.get_running_loop()
        pending: set[asyncio.Task[list[str]]] = set()

        def on_hup() -> None:
            task = loop.create_task(self.reload(), name="reload")
            pending.add(task)
            task.add_done_callback(finished)

        def finished(task: asyncio.Task[list[str]]) -> None:
            pending.discard(task)
            if not task.cancelled() and (exc := task.exception()) is not None:
                log.error("reload failed: %s: %s", type(exc).__name__, exc)

        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signal.SIGHUP, on_hup)
        try:
            await loop.create_future()
        finally:
            loop.remove_signal_handler(signal.SIGHUP)

    async def reload(self) -> list[str]:
        """Apply the config file as it is now; returns the error lines (empty when applied)."""
        async with self._lock:
            try:
                new = await asyncio.to_thread(load_config, self.path)
                plan = Plan.between(self.config, new)
                models = await asyncio.to_thread(self._load_models, new, plan.models)
                if problems := self._sinks_not_running(new, plan.added + plan.changed):
                    return self._refused(problems)
                parts = {name: self.make_stream(name, new.streams[name]) for name in plan.added + plan.changed}
            except ConfigError as exc:
                return self._refused(str(exc).splitlines())
            except (ModelError, SourceError, OSError, ValueError) as exc:  # ValueError: the scheduler's shares
                return self._refused([f"{self.path}: {exc}"])
            await self._apply(plan, models, parts)
            for hook in self.on_applied:
                hook(new)
            self.config = new
            self.reloads += 1
            return []

    def _scheduled(self) -> set[str]:
        """What the accelerator still schedules: the running streams and their cascades' crop slots."""
        runners = [parts.runner for parts in self.runtime.streams]
        return {r.name for r in runners} | {slot for r in runners for step in r.cascades for slot in step.slots}

    def _load_models(self, config: RuntimeConfig, names: list[str]) -> dict[str, ModelHandle]:
        base = self.path.parent
        return dict(load_models({n: config.models[n] for n in names}, config.accelerator, base, None))

    def _sinks_not_running(self, config: RuntimeConfig, streams: list[str]) -> list[str]:
        running = {sink.name for sink in self.runtime.sinks}
        return [
            f"{self.path}: streams.{name}.sinks: sink {sink!r} was not running at start (restart to use it)"
            for name in streams
            for sink in config.streams[name].sinks
            if sink not in running
        ]

    def _refused(self, lines: list[str]) -> list[str]:
        for line in lines:
            log.error("reload refused: %s", line)
        log.error("reload refused: the running config is unchanged")
        return lines

    async def _apply(self, plan: Plan, models: dict[str, ModelHandle], parts: dict[str, StreamParts]) -> None:
        for name, handle in models.items():
            self.service.set_model(name, handle)
            log.info("reload: model %r loaded and swapped in", name)
        for name in plan.removed + plan.changed:
            await self.runtime.remove_stream(name)
            log.info("reload: stream %r stopped (%s)", name, "removed" if name in plan.removed else "changed")
        for name, stream in parts.items():
            self.runtime.add_stream(stream)
            log.info("reload: stream %r started (%s)", name, "added" if name in plan.added else "changed")
        self.service.remove_streams(self._scheduled())
        if self.runtime.status is not None:
            self.runtime.status.stats = [p.runner.stats for p in self.runtime.streams]
        for section in plan.restart:
            log.warning("reload: section %r changed: it takes effect at the next restart", section)
        if not (models or parts or plan.removed or plan.restart):
            log.info("reload: no change")
