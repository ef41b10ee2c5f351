"""Sources: where a stream's frames and readings come from, one module and config model per kind.

`SourceConfig` is the union of the kinds, told apart by `type:`; `build_source` turns one into a `Source`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field
from typing_extensions import assert_never

from cloud_sync.backoff import Backoff
from edge_runtime.drops import DropCounter
from edge_runtime.sources._base import (
    BACKPRESSURE,
    BAD_MESSAGE,
    MAILBOX,
    SENSOR_BUFFER,
    STALL,
    UNREADABLE,
    ChannelPolicy,
    Source,
    SourceError,
    SourceStatus,
    Stamp,
)
from edge_runtime.sources._payload import BadMessage, parse_values
from edge_runtime.sources._thread import ThreadedSource
from edge_runtime.sources.camera import CameraSource, CameraSourceConfig
from edge_runtime.sources.images import ImagesSource, ImagesSourceConfig
from edge_runtime.sources.mqtt import MqttSource, MqttSourceConfig
from edge_runtime.sources.synthetic import SyntheticSource, SyntheticSourceConfig
from edge_runtime.sources.video import VideoSource, VideoSourceConfig

SourceConfig = Annotated[
    CameraSourceConfig | VideoSourceConfig | ImagesSourceConfig | MqttSourceConfig | SyntheticSourceConfig,
    Field(discriminator="type"),
]


def build_source(config: SourceConfig, stream: str, drops: DropCounter, base_dir: Path) -> Source:
    """The source for one stream. Relative paths resolve against `base_dir` (the config file's directory).

    Raises `SourceError` (one line naming the stream) for a missing video file or an images path matching nothing.
    """
    if isinstance(config, CameraSourceConfig):
        return CameraSource(config, stream, drops, base_dir)
    if isinstance(config, VideoSourceConfig):
        return VideoSource(config, stream, drops, base_dir)
    if isinstance(config, ImagesSourceConfig):
        return ImagesSource(config, stream, drops, base_dir)
    if isinstance(config, MqttSourceConfig):
        return MqttSource(config, stream, drops, base_dir)
    if isinstance(config, SyntheticSourceConfig):
        return SyntheticSource(config, stream, drops, base_dir)
    assert_never(config)


__all__ = [
    "BACKPRESSURE",
    "BAD_MESSAGE",
    "MAILBOX",
    "SENSOR_BUFFER",
    "STALL",
    "UNREADABLE",
    "Backoff",
    "BadMessage",
    "CameraSource",
    "CameraSourceConfig",
    "ChannelPolicy",
    "ImagesSource",
    "ImagesSourceConfig",
    "MqttSource",
    "MqttSourceConfig",
    "Source",
    "SourceConfig",
    "SourceError",
    "SourceStatus",
    "Stamp",
    "SyntheticSource",
    "SyntheticSourceConfig",
    "ThreadedSource",
    "VideoSource",
    "VideoSourceConfig",
    "build_source",
    "parse_values",
]
