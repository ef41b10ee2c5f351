"""Source configs: the `type:` union, defaults, and one clear error per mistake."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import TypeAdapter, ValidationError

from edge_runtime.drops import DropCounter
from edge_runtime.sources import (
    BACKPRESSURE,
    MAILBOX,
    CameraSource,
    CameraSourceConfig,
    ImagesSourceConfig,
    MqttSourceConfig,
    SourceConfig,
    SyntheticSourceConfig,
    VideoSourceConfig,
    build_source,
)

ADAPTER: TypeAdapter[SourceConfig] = TypeAdapter(SourceConfig)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        ({"type": "camera", "url": 0}, CameraSourceConfig),
        ({"type": "camera", "url": "rtsp://cam/live"}, CameraSourceConfig),
        ({"type": "video", "path": "clip.mp4"}, VideoSourceConfig),
        ({"type": "images", "path": "images/*.png"}, ImagesSourceConfig),
        ({"type": "mqtt", "topic": "sensors/#"}, MqttSourceConfig),
        ({"type": "synthetic"}, SyntheticSourceConfig),
    ],
)
def test_type_picks_the_model(data: dict[str, object], kind: type) -> None:
    assert isinstance(ADAPTER.validate_python(data), kind)


@pytest.mark.parametrize(
    ("data", "loc", "message"),
    [
        ({"type": "camera", "url": 0, "fps": -5}, ("camera", "fps"), "greater than 0"),
        ({"type": "images", "path": "x", "fps": 0}, ("images", "fps"), "greater than 0"),
        ({"type": "video", "path": "x", "looop": True}, ("video", "looop"), "Extra inputs are not permitted"),
        ({"type": "webcam", "url": 0}, (), "does not match any of the expected tags"),
        ({"type": "camera", "url": 0, "backoff_initial": 5, "backoff_max": 1}, ("camera",), "backoff_max (1.0)"),
        ({"type": "camera", "url": -1}, ("camera",), "USB index must be >= 0"),
        ({"type": "mqtt", "topic": "t", "qos": 3}, ("mqtt", "qos"), "Input should be 0, 1 or 2"),
        ({"type": "synthetic", "count": 0}, ("synthetic", "count"), "greater than or equal to 1"),
    ],
)
def test_mistakes_are_named(data: dict[str, object], loc: tuple[str, ...], message: str) -> None:
    with pytest.raises(ValidationError) as info:
        ADAPTER.validate_python(data)
    errors = info.value.errors()
    assert len(errors) == 1
    assert tuple(str(part) for part in errors[0]["loc"]) == loc
    assert message in errors[0]["msg"]


def test_configs_are_frozen_and_documented() -> None:
    config = SyntheticSourceConfig(type="synthetic")
    with pytest.raises(ValidationError):
        config.fps = 3  # type: ignore[misc]
    for model in (CameraSourceConfig, VideoSourceConfig, ImagesSourceConfig, MqttSourceConfig, SyntheticSourceConfig):
        undocumented = [name for name, field in model.model_fields.items() if name != "type" and not field.description]
        assert undocumented == [], model.__name__


def test_password_is_not_shown() -> None:
    config = MqttSourceConfig(type="mqtt", topic="t", password="hunter2")
    assert "hunter2" not in repr(config)


def test_channel_policy_follows_the_kind(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"")
    drops = DropCounter()
    camera = build_source(CameraSourceConfig(type="camera", url="rtsp://u:secret@cam/live"), "cam", drops, tmp_path)
    assert isinstance(camera, CameraSource)
    assert camera.channel_policy() == MAILBOX
    assert "secret" not in camera.label
    images = build_source(ImagesSourceConfig(type="images", path="*.png"), "img", drops, tmp_path)
    assert images.channel_policy() == BACKPRESSURE
    mqtt = build_source(MqttSourceConfig(type="mqtt", topic="t", buffer=8), "m", drops, tmp_path)
    assert (mqtt.channel_policy().capacity, mqtt.channel_policy().overflow) == (8, "drop_newest")
