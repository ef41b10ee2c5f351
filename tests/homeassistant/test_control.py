"""Control topics on a real mosquitto: detect/set and fps/set reach the stream (and only it), are echoed on their
retained state topics, survive a restart; garbage changes nothing; a stream removed from the config loses its
entities at the next start."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from edge_runtime.engine import Runtime
from tests.homeassistant.support import (
    DEVICE,
    HomeAssistantView,
    device_config,
    eventually,
    home_assistant,
    running,
    write_photos,
)
from tests.support.mosquitto import Mosquitto

pytestmark = [pytest.mark.broker, pytest.mark.timeout(90)]
HA = "{hold_s: 0.5, stats_interval_s: 1, control: {enabled: true, state_file: var/control.json}}"
GARBAGE = [b"MAYBE", b"\xff\xfe", b"on please", b"1" * 100, b""]
GARBAGE_FPS = [b"-3", b"nan", b"inf", b"0", b"fast", b"\x00"]


def invokes(runtime: Runtime, stream: str) -> int:
    """Accelerator runs of the stream so far (each records one service time)."""
    return next(p.runner.stats for p in runtime.streams if p.runner.name == stream).service.count


async def settled(runtime: Runtime, stream: str, quiet: float) -> tuple[int, float]:
    """Wait until the stream's invokes stop growing for `quiet` seconds; returns the count and when it last grew."""
    loop = asyncio.get_running_loop()
    count, changed = invokes(runtime, stream), loop.time()
    give_up = changed + 10.0
    while loop.time() - changed < quiet:
        if loop.time() > give_up:
            raise AssertionError(f"stream {stream!r} still invoking 10 s after detect OFF")
        await asyncio.sleep(0.01)
        if (now := invokes(runtime, stream)) != count:
            count, changed = now, loop.time()
    return count, changed


def state(view: HomeAssistantView, stream: str, what: str) -> bytes | None:
    return view.latest(f"edge/{DEVICE}/{stream}/{what}/state")


def test_detect_off_stops_only_that_stream_on_resumes_and_the_state_survives_a_restart(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    write_photos(tmp_path / "photos", ["01-astronaut.png", "02-coffee.png"])
    both = device_config(tmp_path, mosquitto.port, {"porch": "photos", "yard": "photos"}, HA)
    asyncio.run(switch_and_restart(tmp_path, both, mosquitto.port))


async def switch_and_restart(tmp_path: Path, both: Path, port: int) -> None:
    porch_set = f"edge/{DEVICE}/porch/detect/set"
    async with home_assistant(port) as view:
        async with running(both) as (runtime, _):
            await eventually(lambda: state(view, "porch", "detect") == b"ON", 10, "detect state ON")
            await eventually(lambda: invokes(runtime, "porch") > 5, 10, "porch running")

            await view.client.publish(porch_set, "OFF")
            sent = asyncio.get_running_loop().time()
            await eventually(lambda: state(view, "porch", "detect") == b"OFF", 2, "detect state echoed OFF")
            stopped, last = await settled(runtime, "porch", quiet=0.5)
            assert last - sent < 1.0  # the last invoke for the stream ended within 1 s of the command
            yard = invokes(runtime, "yard")
            await asyncio.sleep(1.0)
            assert invokes(runtime, "porch") == stopped  # off: nothing submitted
            assert invokes(runtime, "yard") > yard  # the other stream goes on
            stats = next(p.runner.stats for p in runtime.streams if p.runner.name == "porch")
            assert stats.status == "disabled"
            assert stats.offered == stats.completed + stats.drops.total  # frames not offered: no drop counted

            for payload in GARBAGE:
                await view.client.publish(porch_set, payload)
            await view.client.publish(f"edge/{DEVICE}/nosuch/detect/set", "ON")
            await asyncio.sleep(0.5)
            assert invokes(runtime, "porch") == stopped
            assert state(view, "porch", "detect") == b"OFF"

            await view.client.publish(porch_set, "ON")
            sent = asyncio.get_running_loop().time()
            await eventually(lambda: invokes(runtime, "porch") > stopped, 1.0, "porch resumes within 1 s")
            await eventually(lambda: state(view, "porch", "detect") == b"ON", 2, "detect state echoed ON")

            # fps: bounded by the configured 10 fps, garbage ignored
            fps_set = f"edge/{DEVICE}/yard/fps/set"
            await view.client.publish(fps_set, "2.5")
            await eventually(lambda: state(view, "yard", "fps") == b"2.5", 2, "fps echoed")
            for payload in GARBAGE_FPS:
                await view.client.publish(fps_set, payload)
            await view.client.publish(fps_set, "1000")
            await eventually(lambda: state(view, "yard", "fps") == b"10", 2, "fps bounded by the config's 10")
            await view.client.publish(fps_set, "2")
            await eventually(lambda: state(view, "yard", "fps") == b"2", 2, "fps 2")
            states = [payload for _, payload in view.history(f"edge/{DEVICE}/yard/fps/state")]
            assert b"nan" not in states
            assert b"-3" not in states
            bridge = next(s for s in runtime.sinks if s.name == "homeassistant")
            rejected = bridge.control.rejected.snapshot()  # type: ignore[attr-defined]
            assert rejected == {"detect": len(GARBAGE) + 1, "fps": len(GARBAGE_FPS)}
            await view.client.publish(porch_set, "OFF")
            await eventually(lambda: state(view, "porch", "detect") == b"OFF", 2, "OFF again")
            await asyncio.sleep(0.3)  # the state file is written off the loop

        # restart without the yard: porch is still off, yard's entities are removed
        porch_only = device_config(tmp_path, port, {"porch": "photos"}, HA)
        view.clear()
        async with running(porch_only) as (runtime, _):
            gone = f"homeassistant/switch/{DEVICE}/yard_detect/config"
            await eventually(lambda: bool(view.current()) and gone in view.cleared, 10, "yard removed")
            await asyncio.sleep(1.0)
            assert invokes(runtime, "porch") == 0  # off since the start
            assert state(view, "porch", "detect") == b"OFF"
            assert not any("/yard_" in topic for topic in view.current())
            assert f"homeassistant/switch/{DEVICE}/porch_detect/config" in view.current()
