"""Configuration: YAML into frozen, validated models; every problem one `FILE:LINE:COL: key: message` line.

The root models import every source, stage, model and sink config, and those import this package's base
classes; so the root models and the loader are imported lazily here, on first use, to keep imports acyclic.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from edge_runtime.config._accelerator import PRIORITIES, AcceleratorConfig, Priority, WatchdogConfig
from edge_runtime.config._base import StrictModel
from edge_runtime.config._errors import ConfigError, Problem

if TYPE_CHECKING:
    from edge_runtime.config._loader import load_config
    from edge_runtime.config._models import (
        DeviceConfig,
        InferStageConfig,
        PipelineFile,
        RuntimeConfig,
        StageConfig,
        StatusConfig,
        StreamConfig,
    )
    from edge_runtime.config._references import resolve_path

_LAZY = {
    "load_config": "edge_runtime.config._loader",
    "DeviceConfig": "edge_runtime.config._models",
    "InferStageConfig": "edge_runtime.config._models",
    "PipelineFile": "edge_runtime.config._models",
    "RuntimeConfig": "edge_runtime.config._models",
    "StageConfig": "edge_runtime.config._models",
    "StatusConfig": "edge_runtime.config._models",
    "StreamConfig": "edge_runtime.config._models",
    "resolve_path": "edge_runtime.config._references",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "PRIORITIES",
    "AcceleratorConfig",
    "ConfigError",
    "DeviceConfig",
    "InferStageConfig",
    "PipelineFile",
    "Priority",
    "Problem",
    "RuntimeConfig",
    "StageConfig",
    "StatusConfig",
    "StreamConfig",
    "StrictModel",
    "WatchdogConfig",
    "load_config",
    "resolve_path",
]
