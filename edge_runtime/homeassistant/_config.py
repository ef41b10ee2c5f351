"""The `homeassistant:` section: MQTT discovery, state topics, and (opt-in) control topics."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from cloud_sync.config import ByteSize
from edge_runtime.sections import StrictModel

RESERVED_LABELS = frozenset({"detect", "fps", "stats", "snapshot"})  # state-topic levels of their own


class ControlConfig(StrictModel):
    """`edge/<device>/<stream>/detect/set` and `.../fps/set`: anyone who may publish there can switch detection off,
    so they are off unless enabled (protect them with broker ACLs, see the README)."""

    enabled: bool = Field(False, description="Accept detect/set and fps/set for every stream.")
    state_file: Path = Field(
        Path("var/control-state.json"), description="Where the set states are kept across restarts (config-relative)."
    )


class SnapshotsConfig(StrictModel):
    """A snapshot (the frame with its boxes, as JPEG) on each tracker `new` event and each alert of a stream:
    saved under `dir/<stream>/` and published, retained, on `edge/<device>/<stream>/snapshot`."""

    streams: list[str] = Field(default_factory=list, description="The streams that take snapshots.")
    max_bytes: ByteSize = Field(200 * 1024, gt=0, description="JPEG size cap; a bigger one is dropped (counted).")
    crop: bool = Field(False, description="Crop around the object (a tracker event's box) instead of the frame.")
    dir: Path = Field(Path("var/snapshots"), description="Where snapshots are saved (config-relative).")
    keep: int = Field(100, ge=1, description="Snapshots kept per stream (the oldest are deleted).")
    keep_bytes: ByteSize = Field(50 * 1024 * 1024, gt=0, description="Bytes of snapshots kept per stream.")
    queue: int = Field(2, ge=1, le=64, description="Snapshots waiting for encoding; more are dropped (counted).")
    min_interval_s: float = Field(
        1.0, ge=0, description="At most one snapshot per stream this often; events in between take none (counted)."
    )


class HomeAssistantConfig(StrictModel):
    """Home Assistant MQTT discovery on the device's one link (needs `cloud.mqtt`)."""

    discovery_prefix: str = Field("homeassistant", min_length=1, description="Home Assistant's discovery prefix.")
    hold_s: float = Field(
        5.0, ge=0, description="A count goes down (occupancy OFF) only after the lower value held this long."
    )
    stats_interval_s: float = Field(5.0, gt=0, description="How often the fps/latency/drops/device sensors update.")
    control: ControlConfig = Field(default_factory=ControlConfig)
    snapshots: SnapshotsConfig = Field(default_factory=SnapshotsConfig)
