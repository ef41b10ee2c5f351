"""Gates before `infer`: frames they keep closed end as `gated` and cost the accelerator nothing."""

from __future__ import annotations

from edge_runtime.gates._base import Gate, check_gates
from edge_runtime.gates._registry import GATE_CONFIGS, GateConfig, build_gate
from edge_runtime.gates.motion import MotionGate, MotionGateConfig
from edge_runtime.gates.sensor import GateTrigger, SensorGate, SensorGateConfig

__all__ = [
    "GATE_CONFIGS",
    "Gate",
    "GateConfig",
    "GateTrigger",
    "MotionGate",
    "MotionGateConfig",
    "SensorGate",
    "SensorGateConfig",
    "build_gate",
    "check_gates",
]
