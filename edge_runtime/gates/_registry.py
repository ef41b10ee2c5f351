"""The gate stage kinds: their configs joined on `type:`, and how each is built."""

from __future__ import annotations

from edge_runtime.gates import motion, sensor
from edge_runtime.gates._base import Gate
from edge_runtime.gates.motion import MotionGateConfig
from edge_runtime.gates.sensor import SensorGateConfig

GateConfig = MotionGateConfig | SensorGateConfig
GATE_CONFIGS = (MotionGateConfig, SensorGateConfig)  # for isinstance: which pipeline stages are gates


def build_gate(config: GateConfig, stream: str) -> Gate:
    """The gate a config describes, for one stream."""
    match config:
        case MotionGateConfig():
            return motion.build(config, stream)
        case SensorGateConfig():
            return sensor.build(config, stream)
