"""Thermal and power: read temperatures and throttle flags, and bend (shed the lowest classes) instead of break."""

from __future__ import annotations

from edge_runtime.thermal._controller import ThermalController, factors, next_state
from edge_runtime.thermal._sensors import Readings, read

__all__ = ["Readings", "ThermalController", "factors", "next_state", "read"]
