"""The `homeassistant:` section: MQTT discovery, state topics, and (opt-in) control topics."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from edge_runtime.config._base import StrictModel

RESERVED_LABELS = frozenset({"detect", "fps", "stats", "snapshot"})  # state-topic levels of their own


class ControlConfig(StrictModel):
    """`edge/<device>/<stream>/detect/set` and `.../fps/set`: anyone who may publish there can switch detection off,
    so they are off unless enabled (protect them with broker ACLs, see the README)."""

    enabled: bool = Field(False, description="Accept detect/set and fps/set for every stream.")
    state_file: Path = Field(
        Path("var/control-state.json"), description="Where the set states are kept across restarts (config-relative)."
    )


class HomeAssistantConfig(StrictModel):
    """Home Assistant MQTT discovery on the device's one link (needs `cloud.mqtt`)."""

    discovery_prefix: str = Field("homeassistant", min_length=1, description="Home Assistant's discovery prefix.")
    hold_s: float = Field(
        5.0, ge=0, description="A count goes down (occupancy OFF) only after the lower value held this long."
    )
    stats_interval_s: float = Field(5.0, gt=0, description="How often the fps/latency/drops/device sensors update.")
    control: ControlConfig = Field(default_factory=ControlConfig)
