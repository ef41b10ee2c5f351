"""Home Assistant: MQTT discovery, Frigate-like state topics and opt-in control topics on the device's link.

The package's top holds only its config section (the config imports it); the bridge that runs is in
`edge_runtime.homeassistant.bridge`.
"""

from edge_runtime.homeassistant._config import ControlConfig, HomeAssistantConfig, SnapshotsConfig

__all__ = ["ControlConfig", "HomeAssistantConfig", "SnapshotsConfig"]
