"""The held count and the control payload parsers, on their own."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_runtime.config import load_config
from edge_runtime.config._errors import ConfigError
from edge_runtime.homeassistant._control import ControlError, parse_detect, parse_fps
from edge_runtime.homeassistant._counts import HeldCount, label_counts


def test_a_count_rises_at_once_and_falls_only_after_the_hold() -> None:
    held = HeldCount(hold_s=1.0)
    held.observe(2, 0.0)
    assert held.shown == 2
    held.observe(0, 0.5)
    assert held.shown == 2  # held
    held.observe(1, 0.9)
    held.observe(0, 1.05)
    assert held.shown == 1  # 2 was last seen at 0.0; 1 (at 0.9) is the largest within the last second
    assert held.settle(1.91) == 0
    held.observe(3, 2.0)
    assert held.shown == 3


def test_label_counts_reads_only_detections_of_wanted_labels() -> None:
    envelope = {"payload": {"detections": [{"label": "face"}, {"label": "car"}, {"label": "face"}, "junk"]}}
    assert label_counts(envelope, ["face", "person"]) == {"face": 2, "person": 0}
    assert label_counts({"payload": {"values": {}}}, ["face"]) is None


@pytest.mark.parametrize("payload", [b"MAYBE", b"\xff", b"x" * 40, b""])
def test_detect_garbage_is_refused(payload: bytes) -> None:
    with pytest.raises(ControlError):
        parse_detect(payload)


@pytest.mark.parametrize("payload", [b"nan", b"-1", b"0", b"inf", b"1e999", b"ten"])
def test_fps_garbage_is_refused(payload: bytes) -> None:
    with pytest.raises(ControlError):
        parse_fps(payload)


def test_good_payloads() -> None:
    assert parse_detect(b" on\n") is True
    assert parse_detect(b"OFF") is False
    assert parse_fps(b"2.5") == 2.5


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("homeassistant: {}\n", "homeassistant: needs cloud.mqtt"),
        (
            "cloud: {mqtt: {host: 127.0.0.1}}\nhomeassistant: {snapshots: {streams: [nope]}}\n",
            "homeassistant.snapshots.streams: no stream named nope",
        ),
        ("cloud: {mqtt: {host: 127.0.0.1}}\nhomeassistant: {hold_s: -1}\n", "homeassistant.hold_s"),
    ],
)
def test_homeassistant_config_mistakes_are_one_line_each(tmp_path: Path, extra: str, message: str) -> None:
    path = tmp_path / "device.yaml"
    path.write_text("device: {id: d1}\nstreams:\n  s1:\n    source: {type: synthetic, fps: 5}\n" + extra)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert message in str(caught.value)
    assert str(caught.value).count("\n") == 0


def test_a_reserved_label_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "device.yaml"
    path.write_text("streams:\n  s1:\n    source: {type: synthetic, fps: 5}\n    labels: [snapshot]\n")
    with pytest.raises(ConfigError, match=r"device.yaml:4:.*streams.s1.labels: label 'snapshot' is reserved"):
        load_config(path)


def test_the_sample_config_is_valid() -> None:
    config = load_config(Path(__file__).resolve().parents[2] / "configs" / "homeassistant.yaml")
    assert config.homeassistant is not None
    assert config.homeassistant.snapshots.streams == ["photos"]
    assert config.streams["photos"].labels == ["face"]
