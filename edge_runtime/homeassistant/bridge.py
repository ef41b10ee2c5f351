"""The running parts of the Home Assistant bridge (made by the engine's builder)."""

from edge_runtime.homeassistant._bridge import BridgedStream, HomeAssistantBridge
from edge_runtime.homeassistant._discovery import Discovery, Entity, StreamEntities
from edge_runtime.homeassistant._sensors import DeviceSensors
from edge_runtime.homeassistant._snapshots import FrameRing
from edge_runtime.homeassistant._topics import Topics

__all__ = [
    "BridgedStream",
    "DeviceSensors",
    "Discovery",
    "Entity",
    "FrameRing",
    "HomeAssistantBridge",
    "StreamEntities",
    "Topics",
]
