"""The root config: `device`, `accelerator`, `models`, `streams`, `sinks`, `cloud`, `status`, `http`."""

from __future__ import annotations

import re
import socket
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from cloud_sync.config import CloudConfig
from cloud_sync.models import ModelUpdatesConfig
from edge_runtime.cascade._config import CascadeOnConfig, CropConfig
from edge_runtime.config._thermal import ThermalConfig
from edge_runtime.gates import GateConfig
from edge_runtime.homeassistant._config import RESERVED_LABELS, HomeAssistantConfig
from edge_runtime.http import HttpConfig
from edge_runtime.inference import ModelConfig
from edge_runtime.sections import AcceleratorConfig, Priority, StrictModel
from edge_runtime.sinks.configs import SinkConfig
from edge_runtime.sources import SourceConfig
from edge_runtime.stages import PostStageConfig

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
BUILTIN_SINKS = ("console", "cloud")


def _check_name(value: str, what: str) -> str:
    if not _NAME.match(value):
        raise ValueError(f"{what} {value!r} must be letters, digits, '_', '.', '-' (it becomes an MQTT topic level)")
    return value


class DeviceConfig(StrictModel):
    id: str = Field(default_factory=socket.gethostname, description="Device id: names the MQTT topics.")

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str) -> str:
        return _check_name(value, "device id")


class InferStageConfig(StrictModel):
    """Run a model on each frame through the accelerator service."""

    type: Literal["infer"]
    name: str = Field("infer", description="Unique name of this stage within the pipeline.")
    model: str = Field(description="A model name from the top-level `models:` section.")
    on: CascadeOnConfig | None = Field(
        None,
        description="A cascade: run the model on the crops of these detections of the pipeline's detector "
        "(its first `infer` stage); results nest under `detections[i].sub`.",
    )
    crop: CropConfig = Field(default_factory=CropConfig, description="How a cascade cuts each detection's crop.")

    @model_validator(mode="before")
    @classmethod
    def _cascade_named_after_model(cls, data: Any) -> Any:
        """A cascade without a `name:` is named after its model (the detector keeps `infer`)."""
        if isinstance(data, dict) and data.get("on") is not None and "name" not in data:
            return {**data, "name": data.get("model", "infer")}
        return data


StageConfig = Annotated[InferStageConfig | GateConfig | PostStageConfig, Field(discriminator="type")]


class PipelineFile(StrictModel):
    """A reusable chain of stages in `pipelines/NAME.yaml`."""

    description: str = ""
    stages: list[StageConfig] = Field(min_length=1)


class StreamConfig(StrictModel):
    source: SourceConfig
    pipeline: str | list[StageConfig] = Field(
        default_factory=list, description="A pipeline name (pipelines/NAME.yaml) or an inline list of stages."
    )
    sinks: list[str] = Field(default_factory=lambda: ["console"], description="Sink names from `sinks:`, or cloud.")
    priority: Priority = Field("normal", description="Scheduling class on the shared accelerator.")
    deadline_ms: float | None = Field(
        None, gt=0, description="A frame older than this when a lane is free is dropped as stale, never run."
    )
    min_share: float | None = Field(
        None, gt=0, le=1, description="Fraction of dispatches this stream's class is guaranteed when it has work."
    )
    max_wait_ms: float | None = Field(
        None, gt=0, description="A queued frame waiting longer than this is dispatched next, whatever its class."
    )
    labels: list[str] = Field(
        default_factory=list, description="Labels counted on state topics and in Home Assistant (e.g. [person])."
    )

    @field_validator("labels")
    @classmethod
    def _valid_labels(cls, value: list[str]) -> list[str]:
        for label in value:
            _check_name(label, "label")
            if label in RESERVED_LABELS:
                raise ValueError(f"label {label!r} is reserved for a state topic of its own")
        return value


class DeviceCloudConfig(CloudConfig):
    """`cloud:` on a device: the uplink (cloud_sync.CloudConfig) and signed model updates over the same link."""

    models: ModelUpdatesConfig | None = Field(
        None, description="Accept signed model pushes from the cloud (keys, store, canary, health watch)."
    )
    stats_interval_s: float = Field(
        10.0, gt=0, description="How often the runtime's stats go to `<prefix>/<device>/stats` (low priority)."
    )


class StatusConfig(StrictModel):
    interval_s: float = Field(1.0, gt=0, description="How often the status line (or log line) is refreshed.")
    display: Literal["auto", "tty", "log", "off"] = Field(
        "auto", description="auto: a live status line on a terminal, periodic log lines otherwise."
    )

    @field_validator("display", mode="before")
    @classmethod
    def _yaml_off(cls, value: object) -> object:
        return "off" if value is False else value  # YAML 1.1 reads a bare `off` as false


class RuntimeConfig(StrictModel):
    device: DeviceConfig = Field(default_factory=DeviceConfig)
    accelerator: AcceleratorConfig = Field(default_factory=AcceleratorConfig)
    models: dict[str, ModelConfig] = Field(default_factory=dict)
    streams: dict[str, StreamConfig] = Field(min_length=1)
    sinks: dict[str, SinkConfig] = Field(default_factory=dict)
    cloud: DeviceCloudConfig | None = None
    status: StatusConfig = Field(default_factory=StatusConfig)
    thermal: ThermalConfig | None = Field(None, description="Read temperatures and throttle flags; shed low classes.")
    http: HttpConfig = Field(default_factory=HttpConfig)
    homeassistant: HomeAssistantConfig | None = Field(
        None, description="Home Assistant MQTT discovery, state and control topics (on the cloud.mqtt link)."
    )

    @model_validator(mode="after")
    def _homeassistant_needs_mqtt(self) -> RuntimeConfig:
        if self.homeassistant is not None and (self.cloud is None or self.cloud.mqtt is None):
            raise ValueError("homeassistant: needs cloud.mqtt (discovery and control travel on the MQTT link)")
        unknown = set(self.homeassistant.snapshots.streams if self.homeassistant else ()) - self.streams.keys()
        if unknown:
            raise ValueError(f"homeassistant.snapshots.streams: no stream named {', '.join(sorted(unknown))}")
        return self

    @field_validator("streams")
    @classmethod
    def _valid_stream_names(cls, value: dict[str, StreamConfig]) -> dict[str, StreamConfig]:
        for name in value:
            _check_name(name, "stream name")
        return value
