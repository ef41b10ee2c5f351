"""Home Assistant: MQTT discovery, Frigate-like state topics and opt-in control topics on the device's link."""

from edge_runtime.homeassistant._bridge import BridgedStream, HomeAssistantBridge
from edge_runtime.homeassistant._config import ControlConfig, HomeAssistantConfig
from edge_runtime.homeassistant._discovery import Discovery, Entity, StreamEntities
from edge_runtime.homeassistant._sensors import DeviceSensors
from edge_runtime.homeassistant._snapshots import FrameRing
from edge_runtime.homeassistant._topics import Topics

__all__ = [
    "BridgedStream",
    "ControlConfig",
    "DeviceSensors",
    "Discovery",
    "Entity",
    "FrameRing",
    "HomeAssistantBridge",
    "HomeAssistantConfig",
    "StreamEntities",
    "Topics",
]
