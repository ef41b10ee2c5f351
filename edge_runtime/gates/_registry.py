"""The gate stage kinds: their configs joined on `type:`, and how each is built."""

from __future__ import annotations

from edge_runtime.gates import motion
from edge_runtime.gates._base import Gate
from edge_runtime.gates.motion import MotionGateConfig

GateConfig = MotionGateConfig
GATE_CONFIGS = (MotionGateConfig,)  # for isinstance: which pipeline stages are gates


def build_gate(config: GateConfig, stream: str) -> Gate:
    """The gate a config describes, for one stream."""
    match config:
        case MotionGateConfig():
            return motion.build(config, stream)
