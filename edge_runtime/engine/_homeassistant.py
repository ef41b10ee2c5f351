"""Building the Home Assistant bridge of a runtime (edge_runtime.homeassistant) from its parts.

The bridge's modules are imported here only for a config with a `homeassistant:` section.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cloud_sync import Transport
from edge_runtime.config import RuntimeConfig, StreamConfig
from edge_runtime.control import StreamControl
from edge_runtime.engine._runtime import StreamParts
from edge_runtime.homeassistant import HomeAssistantConfig
from edge_runtime.scheduler import AcceleratorService
from edge_runtime.sinks import Sink
from edge_runtime.sinks.cloud import CloudSink

if TYPE_CHECKING:
    from edge_runtime.homeassistant.bridge import BridgedStream, FrameRing, HomeAssistantBridge


def homeassistant_bridge(
    config: RuntimeConfig,
    ha: HomeAssistantConfig,
    *,
    link: Transport | None,
    sinks: dict[str, Sink],
    streams: list[StreamParts],
    controls: dict[str, StreamControl],
    service: AcceleratorService,
    base_dir: Path,
    frames: FrameRing | None,
) -> HomeAssistantBridge:
    """The bridge on the device's one MQTT link (the config was checked to have `cloud.mqtt`)."""
    from cloud_sync.mqtt import MqttTransport  # paho: only a runtime with cloud.mqtt gets here
    from edge_runtime.homeassistant.bridge import DeviceSensors, HomeAssistantBridge, Topics

    cloud = sinks["cloud"]
    if not isinstance(link, MqttTransport) or not isinstance(cloud, CloudSink) or config.cloud is None:
        raise RuntimeError("homeassistant: needs cloud.mqtt")  # the config validation already refused this
    uplink = cloud.uplink

    def outbox_entries() -> int | None:
        return uplink.outbox.entries if uplink.outbox is not None else None

    def results_idle() -> bool:
        stats = uplink.stats()
        return not stats["buffered"] and not stats["outbox"]["entries"]

    def model_versions() -> dict[str, int]:
        return {name: service.model(name).ref.version for name in config.models}

    bridged = [bridged_stream(p, config.streams[p.runner.name], controls) for p in streams]
    topics = Topics(config.cloud.topic_prefix, config.device.id)
    sysfs = config.thermal.sysfs_root if config.thermal is not None else Path("/sys")
    device = DeviceSensors(model_versions, outbox_entries, sysfs)
    bridge = HomeAssistantBridge(
        ha, topics=topics, link=link, streams=bridged, device=device, base_dir=base_dir, frames=frames,
        results_idle=results_idle,
    )  # fmt: skip
    bridge.live = lambda: {p.runner.stats for p in streams}  # the runtime's list: a reload adds and removes in it
    for parts in streams:
        parts.runner.sinks.append(bridge)
    return bridge


def bridged_stream(parts: StreamParts, config: StreamConfig, controls: dict[str, StreamControl]) -> BridgedStream:
    from edge_runtime.homeassistant.bridge import BridgedStream

    name = parts.runner.name
    return BridgedStream(name, parts.runner.stats, controls[name], tuple(config.labels))


def join_bridge(bridge: HomeAssistantBridge, parts: StreamParts, config: StreamConfig,
                controls: dict[str, StreamControl]) -> None:
    """A stream a hot reload starts: counted and announced like the others."""
    bridge.add_stream(bridged_stream(parts, config, controls))
    parts.runner.sinks.append(bridge)


def snapshot_frames(config: RuntimeConfig) -> FrameRing | None:
    """The ring of recent frames snapshots are made from (None: no Home Assistant section)."""
    ha = config.homeassistant
    if ha is None:
        return None
    from edge_runtime.homeassistant.bridge import FrameRing

    return FrameRing(set(ha.snapshots.streams))  # a reload may add snapshot streams


def follow_snapshots(bridge: HomeAssistantBridge) -> Callable[[RuntimeConfig], None]:
    """After a reload, the Home Assistant bridge takes snapshots of the streams the new config lists."""

    def follow(config: RuntimeConfig) -> None:
        if config.homeassistant is not None:
            bridge.follow_snapshots(config.homeassistant.snapshots.streams)

    return follow
