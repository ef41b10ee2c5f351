"""Home Assistant discovery on a real mosquitto: a client that behaves like Home Assistant checks every config
against the keys Home Assistant requires, follows every state and availability topic, and gets every config
again after its own birth message."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from edge_runtime.config import load_config
from edge_runtime.engine import build_runtime
from edge_runtime.reload import Reloader
from tests.homeassistant.support import (
    COMMON,
    DEVICE,
    DEVICE_KEYS,
    REQUIRED,
    HomeAssistantView,
    device_config,
    eventually,
    home_assistant,
    running,
    write_photos,
)
from tests.support.mosquitto import Mosquitto

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]
HA = "{hold_s: 0.5, stats_interval_s: 0.5, control: {enabled: true, state_file: var/control.json}}"
STREAM_ENTITIES = {"fps", "latency_p99", "drops", "detect", "face_count", "face_occupancy"}


def check_config(topic: str, config: dict[str, object]) -> str:
    """The component, after checking the keys Home Assistant requires (see tests/homeassistant/support.py)."""
    prefix, component, node, object_id, last = topic.split("/")
    assert (prefix, node, last) == ("homeassistant", DEVICE, "config"), topic
    assert component in REQUIRED, topic
    missing = (REQUIRED[component] | COMMON) - config.keys()
    assert not missing, f"{topic}: missing {missing}"
    assert config["unique_id"] == f"{DEVICE}_{object_id}"
    device = config["device"]
    assert isinstance(device, dict)
    assert device.keys() >= DEVICE_KEYS
    assert device["identifiers"] == [DEVICE]
    assert config["availability"] == [
        {"topic": f"edge/{DEVICE}/status", "payload_available": "online", "payload_not_available": "offline"}
    ]
    return component


def value_of(view: HomeAssistantView, config: dict[str, object]) -> object:
    """What Home Assistant would show: the state topic's latest value through the config's value_template."""
    raw = view.latest(str(config["state_topic"]))
    if raw is None:
        return None
    template = config.get("value_template")
    if template is None:
        return raw.decode()
    path = str(template).strip("{} ").removeprefix("value_json.")
    value = json.loads(raw)
    for part in path.replace("['", ".").replace("']", "").split("."):
        value = value[part]
    return value


def test_every_config_is_complete_its_states_arrive_and_birth_gets_them_again(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    asyncio.run(discovery_states_and_birth(tmp_path, mosquitto))


async def discovery_states_and_birth(tmp_path: Path, mosquitto: Mosquitto) -> None:
    write_photos(tmp_path / "porch", ["01-astronaut.png"])
    write_photos(tmp_path / "yard", ["02-coffee.png"])
    zone = tmp_path / "sys" / "class" / "thermal" / "thermal_zone0"
    zone.mkdir(parents=True)
    (zone / "temp").write_text("48500\n")
    (zone / "type").write_text("cpu-thermal\n")
    thermal = f"thermal: {{sysfs_root: {tmp_path / 'sys'}}}\n"
    cfg = device_config(tmp_path, mosquitto.port, {"porch": "porch", "yard": "yard"}, HA, extra=thermal)
    async with home_assistant(mosquitto.port) as view, running(cfg) as (runtime, _service):
        await eventually(lambda: len(view.current()) >= 2 * 6 + 4, 15, "every config")
        await asyncio.sleep(0.3)  # the rest of the announcement, if any
        view.pump()
        components = {topic: check_config(topic, config) for topic, config in view.configs.items()}
        object_ids = {topic.split("/")[3] for topic in components}
        for stream in ("porch", "yard"):
            assert {f"{stream}_{name}" for name in STREAM_ENTITIES} <= object_ids
        assert {"outbox_entries", "link", "model_faces_version", "cpu_temperature"} <= object_ids
        assert components[f"homeassistant/switch/{DEVICE}/porch_detect/config"] == "switch"

        # every state topic and availability topic carries a value
        def all_arrived() -> bool:
            return all(
                value_of(view, c) is not None for c in view.configs.values() if "state_topic" in c
            ) and view.latest(f"edge/{DEVICE}/status") == b"online"

        await eventually(all_arrived, 10, "a value on every state topic")

        # the values are the runtime's
        stats = {p.runner.name: p.runner.stats for p in runtime.streams}
        porch = f"homeassistant/sensor/{DEVICE}/porch_face_count/config"
        yard = f"homeassistant/sensor/{DEVICE}/yard_face_count/config"
        await eventually(lambda: value_of(view, view.configs[porch]) == "1", 5, "one face on the porch")
        assert value_of(view, view.configs[yard]) == "0"
        occupancy = f"homeassistant/binary_sensor/{DEVICE}/porch_face_occupancy/config"
        assert value_of(view, view.configs[occupancy]) == "ON"
        detect = f"homeassistant/switch/{DEVICE}/porch_detect/config"
        assert value_of(view, view.configs[detect]) == "ON"
        link = view.configs[f"homeassistant/binary_sensor/{DEVICE}/link/config"]
        await eventually(lambda: value_of(view, link) == "ON", 5, "the link sensor ON")
        version = view.configs[f"homeassistant/sensor/{DEVICE}/model_faces_version/config"]
        assert value_of(view, version) == 1
        temperature = view.configs[f"homeassistant/sensor/{DEVICE}/cpu_temperature/config"]
        assert temperature["device_class"] == "temperature"
        assert temperature["unit_of_measurement"] == "°C"
        assert value_of(view, temperature) == 48.5  # the hottest thermal zone
        fps_config = view.configs[f"homeassistant/sensor/{DEVICE}/porch_fps/config"]
        assert fps_config["unit_of_measurement"] == "fps"
        assert fps_config["state_class"] == "measurement"
        latency = view.configs[f"homeassistant/sensor/{DEVICE}/porch_latency_p99/config"]
        assert latency["device_class"] == "duration"
        assert latency["unit_of_measurement"] == "ms"
        def stats_sample() -> dict[str, Any]:
            data: dict[str, Any] = json.loads(view.latest(f"edge/{DEVICE}/porch/stats") or b"{}")
            return data

        await eventually(lambda: bool(stats_sample().get("completed")), 10, "a stats sample after results")
        sample = stats_sample()
        assert 0 < sample["completed"] <= stats["porch"].completed
        assert 0 < sample["fps"] <= 10 * 1.5  # the source's rate is 10 fps
        assert sample["latency_p99_ms"] > 0
        assert sample["drops"] <= stats["porch"].drops.total
        assert sample["status"] == "running"

        # Home Assistant restarts: its birth message brings every config again
        before = dict(view.configs)
        view.clear()
        await view.client.publish("homeassistant/status", "online")
        await eventually(lambda: view.current() == before, 5, "every config again")


def test_a_hot_reload_announces_added_streams_and_clears_removed_ones(tmp_path: Path, mosquitto: Mosquitto) -> None:
    asyncio.run(reload_entities(tmp_path, mosquitto))


async def reload_entities(tmp_path: Path, mosquitto: Mosquitto) -> None:
    write_photos(tmp_path / "photos", ["01-astronaut.png"])
    cfg = device_config(tmp_path, mosquitto.port, {"porch": "photos", "yard": "photos"}, HA)
    config = load_config(cfg)
    runtime, _service = build_runtime(config, cfg.parent, display="off", config_path=cfg)
    reloader: Reloader = runtime.background["reload"].__self__  # type: ignore[attr-defined]
    task = asyncio.create_task(runtime.run())
    switch = "homeassistant/switch/" + DEVICE + "/{}_detect/config"
    try:
        async with home_assistant(mosquitto.port) as view:
            await eventually(lambda: switch.format("yard") in view.current(), 10, "yard announced")
            device_config(tmp_path, mosquitto.port, {"porch": "photos", "garden": "photos"}, HA)
            assert await asyncio.wait_for(reloader.reload(), 20) == []
            await eventually(lambda: switch.format("garden") in view.current(), 10, "garden announced")
            await eventually(lambda: not any("/yard_" in t for t in view.current()), 10, "every yard entity cleared")
            assert switch.format("yard") in view.cleared
            assert switch.format("porch") in view.current()
            count = f"edge/{DEVICE}/garden/face"
            await eventually(lambda: view.latest(count) == b"1", 10, "garden counts its face")
    finally:
        runtime.stop()
        await asyncio.wait_for(task, 15)
