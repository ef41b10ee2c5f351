"""Home Assistant MQTT discovery: the retained config of every entity this device offers.

Topic: ``<discovery_prefix>/<component>/<device_id>/<object_id>/config``. Every config carries a stable
`unique_id` (``<device_id>_<object_id>``: the same after a restart), the `device` block and the device's status
topic as its availability. See https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from edge_runtime.homeassistant._topics import Topics

ON, OFF = "ON", "OFF"


@dataclass(frozen=True)
class StreamEntities:
    """What one stream offers: its labels, and whether detection can be switched."""

    name: str
    labels: tuple[str, ...]
    switchable: bool
    snapshots: bool = False


@dataclass(frozen=True)
class Entity:
    component: str
    object_id: str
    config: dict[str, Any]

    def topic(self, discovery_prefix: str, device: str) -> str:
        return f"{discovery_prefix}/{self.component}/{device}/{self.object_id}/config"

    def payload(self) -> bytes:
        return json.dumps(self.config, sort_keys=True).encode()


def _sw_version() -> str:
    try:
        return version("edge-runtime")
    except PackageNotFoundError:
        return "unknown"


class Discovery:
    """Builds the entity configs of one device."""

    def __init__(self, topics: Topics, discovery_prefix: str) -> None:
        self.topics = topics
        self.discovery_prefix = discovery_prefix
        device = topics.device
        self.device_block = {
            "identifiers": [device],
            "name": device,
            "model": "edge-runtime",
            "manufacturer": "edge-runtime",
            "sw_version": _sw_version(),
        }

    def entities(self, streams: Iterable[StreamEntities], models: Iterable[str], cpu_temp: bool) -> list[Entity]:
        out: list[Entity] = []
        for stream in streams:
            out += self._stream(stream)
        out += self._device(models, cpu_temp)
        return out

    def configs(self, entities: Iterable[Entity]) -> dict[str, bytes]:
        """Discovery topic -> retained payload."""
        return {e.topic(self.discovery_prefix, self.topics.device): e.payload() for e in entities}

    def _entity(self, component: str, object_id: str, name: str, **extra: Any) -> Entity:
        config = {
            "name": name,
            "unique_id": f"{self.topics.device}_{object_id}",
            "object_id": f"{self.topics.device}_{object_id}",
            "device": self.device_block,
            "availability": [{"topic": self.topics.status, "payload_available": "online",
                              "payload_not_available": "offline"}],
            **extra,
        }  # fmt: skip
        return Entity(component, object_id, config)

    def _stream(self, s: StreamEntities) -> list[Entity]:
        stats = self.topics.stats(s.name)
        measure = {"state_topic": stats, "state_class": "measurement"}
        out = [
            self._entity("sensor", f"{s.name}_fps", f"{s.name} fps", unit_of_measurement="fps",
                         value_template="{{ value_json.fps }}", **measure),
            self._entity("sensor", f"{s.name}_latency_p99", f"{s.name} latency p99", unit_of_measurement="ms",
                         device_class="duration", value_template="{{ value_json.latency_p99_ms }}", **measure),
            self._entity("sensor", f"{s.name}_drops", f"{s.name} drops", unit_of_measurement="drops/s",
                         value_template="{{ value_json.drops_per_s }}", **measure),
        ]  # fmt: skip
        if s.switchable:
            out.append(
                self._entity("switch", f"{s.name}_detect", f"{s.name} detect",
                             command_topic=self.topics.control(s.name, "detect", "set"),
                             state_topic=self.topics.control(s.name, "detect", "state"),
                             payload_on=ON, payload_off=OFF, state_on=ON, state_off=OFF)
            )  # fmt: skip
        if s.snapshots:
            out.append(
                self._entity("image", f"{s.name}_snapshot", f"{s.name} snapshot",
                             image_topic=self.topics.stream(s.name, "snapshot"), content_type="image/jpeg")
            )  # fmt: skip
        for label in s.labels:
            out.append(
                self._entity("sensor", f"{s.name}_{label}_count", f"{s.name} {label} count",
                             state_topic=self.topics.count(s.name, label), state_class="measurement")
            )  # fmt: skip
            out.append(
                self._entity("binary_sensor", f"{s.name}_{label}_occupancy", f"{s.name} {label} occupancy",
                             state_topic=self.topics.occupied(s.name, label), device_class="occupancy",
                             payload_on=ON, payload_off=OFF)
            )  # fmt: skip
        return out

    def _device(self, models: Iterable[str], cpu_temp: bool) -> list[Entity]:
        state = self.topics.device_state
        out = [
            self._entity("sensor", "outbox_entries", "outbox entries", state_topic=state, state_class="measurement",
                         value_template="{{ value_json.outbox_entries }}", entity_category="diagnostic"),
            self._entity("binary_sensor", "link", "link", state_topic=state, device_class="connectivity",
                         value_template="{{ value_json.link }}", payload_on=ON, payload_off=OFF,
                         entity_category="diagnostic"),
        ]  # fmt: skip
        for model in models:
            out.append(
                self._entity("sensor", f"model_{model}_version", f"model {model} version", state_topic=state,
                             value_template=f"{{{{ value_json.models['{model}'] }}}}", entity_category="diagnostic")
            )  # fmt: skip
        if cpu_temp:
            out.append(
                self._entity("sensor", "cpu_temperature", "CPU temperature", state_topic=state,
                             device_class="temperature", state_class="measurement", unit_of_measurement="°C",
                             value_template="{{ value_json.cpu_temp_c }}", entity_category="diagnostic")
            )  # fmt: skip
        return out
