"""Configuration: YAML into frozen, validated models; every problem one `FILE:LINE:COL: key: message` line.

This package is the top of the config imports: the root models here import every source, stage, model and sink
section, and those stand on `edge_runtime.sections` (the base model, the scheduling classes, the accelerator).
"""

from __future__ import annotations

from edge_runtime.config._errors import ConfigError, Problem
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
from edge_runtime.sections import PRIORITIES, AcceleratorConfig, Priority, StrictModel, WatchdogConfig

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
