"""Config models of the built-in sinks (the cloud uplink is configured under `cloud:`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from edge_runtime.sections import StrictModel


class ConsoleSinkConfig(StrictModel):
    """One short line per result on stdout (or stderr when the status line owns the terminal)."""

    type: Literal["console"]
    every: int = Field(1, ge=1, description="Print every Nth result of each stream.")
    kinds: list[str] | None = Field(None, description="Only these result kinds (default: all).")


class JsonlSinkConfig(StrictModel):
    """The result envelope, one JSON object per line, flushed after each write batch."""

    type: Literal["jsonl"]
    path: str = Field(description="File to append to; relative paths are relative to the config file.")
    max_queue: int = Field(10_000, ge=1, description="Envelopes buffered for the writer thread; more are dropped.")


class MemorySinkConfig(StrictModel):
    """Keeps the last `capacity` envelopes in memory: for tests and embedding."""

    type: Literal["memory"]
    capacity: int = Field(100_000, ge=1)


SinkConfig = Annotated[ConsoleSinkConfig | JsonlSinkConfig | MemorySinkConfig, Field(discriminator="type")]
