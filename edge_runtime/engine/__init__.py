"""The stream engine: builds streams from a config and runs them under one task group."""

from edge_runtime.engine._build import build_runtime
from edge_runtime.engine._runtime import Runtime, StreamParts
from edge_runtime.engine._stream import InferStep, StreamRunner

__all__ = ["InferStep", "Runtime", "StreamParts", "StreamRunner", "build_runtime"]
