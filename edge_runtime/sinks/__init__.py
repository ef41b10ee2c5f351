"""Sinks: where result envelopes go (console, JSONL files, memory; the cloud uplink in `sinks.cloud`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from edge_runtime.sinks._base import Sink
from edge_runtime.sinks.configs import ConsoleSinkConfig, JsonlSinkConfig, MemorySinkConfig, SinkConfig
from edge_runtime.sinks.console import ConsoleSink
from edge_runtime.sinks.jsonl import JsonlSink
from edge_runtime.sinks.memory import MemorySink


def build_sink(name: str, config: SinkConfig, base_dir: Path, printer: Callable[[str], None] | None = None) -> Sink:
    if isinstance(config, ConsoleSinkConfig):
        return ConsoleSink(name, every=config.every, kinds=config.kinds, printer=printer)
    if isinstance(config, JsonlSinkConfig):
        path = Path(config.path)
        return JsonlSink(name, path if path.is_absolute() else base_dir / path, max_queue=config.max_queue)
    return MemorySink(name, capacity=config.capacity)


__all__ = [
    "ConsoleSink",
    "ConsoleSinkConfig",
    "JsonlSink",
    "JsonlSinkConfig",
    "MemorySink",
    "MemorySinkConfig",
    "Sink",
    "SinkConfig",
    "build_sink",
]
