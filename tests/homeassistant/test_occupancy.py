"""Occupancy from real detections: photos alternating face / no face every frame, then a run without a face.
With a hold, occupancy stays ON through the alternation (no flicker) and goes OFF once no face was seen for the
hold; the count topic follows the same hold."""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest

from edge_runtime.sinks.memory import MemorySink
from tests.homeassistant.support import DEVICE, device_config, eventually, home_assistant, running, write_photos
from tests.support.mosquitto import Mosquitto

pytestmark = [pytest.mark.broker, pytest.mark.timeout(60)]
HOLD_S = 0.5
HA = f"{{hold_s: {HOLD_S}, stats_interval_s: 5}}"
FACE, NO_FACE = "01-astronaut.png", "02-coffee.png"
PHOTOS = [FACE, NO_FACE] * 3 + [NO_FACE] * 14  # at 10 fps: 0.6 s alternating, then 1.4 s without a face
CYCLE_S = len(PHOTOS) / 10


def periods(history: list[tuple[float, bytes]]) -> list[tuple[bytes, float]]:
    """(state, how long it lasted) of each complete period in a topic's history, repeats merged."""
    changes: list[tuple[float, bytes]] = []
    for t, payload in history:
        if not changes or changes[-1][1] != payload:
            changes.append((t, payload))
    return [(payload, nxt[0] - t) for (t, payload), nxt in itertools.pairwise(changes)]


def test_alternating_faces_give_one_on_per_visit_and_off_after_the_hold(tmp_path: Path, mosquitto: Mosquitto) -> None:
    write_photos(tmp_path / "photos", PHOTOS)
    cfg = device_config(tmp_path, mosquitto.port, {"porch": "photos"}, HA)
    asyncio.run(occupancy(cfg, mosquitto.port))


async def occupancy(cfg: Path, port: int) -> None:
    occupied = f"edge/{DEVICE}/porch/face/occupied"
    count = f"edge/{DEVICE}/porch/face"
    async with home_assistant(port) as view, running(cfg) as (runtime, _):
        await eventually(lambda: view.latest(occupied) == b"ON", 10, "occupancy ON")
        start = asyncio.get_running_loop().time()
        await asyncio.sleep(2.5 * CYCLE_S)
        elapsed = asyncio.get_running_loop().time() - start
        results = next(s for s in runtime.sinks if isinstance(s, MemorySink))
        faces = {(Path(e["source"]).name, len(e["payload"]["detections"])) for e in results.envelopes}
    # the detector really sees a face in each astronaut photo and none in the others
    expected = {(f"{i:03d}.png", 1 if name == FACE else 0) for i, name in enumerate(PHOTOS)}
    assert faces <= expected
    assert len(faces) >= len(PHOTOS) // 2
    states = periods(view.history(occupied))
    if states and states[0][0] == b"OFF":
        states = states[1:]  # the initial state (unless the first face replaced it before it was sent)
    on = [d for s, d in states if s == b"ON"]
    off = [d for s, d in states if s == b"OFF"]
    assert len(on) >= 2  # ON, then OFF after the hold, then ON again with the next visit
    assert len(on) <= elapsed / CYCLE_S + 1  # one ON per visit: the alternation never flickers
    assert min(on) >= HOLD_S * 0.9  # an ON lasts at least the hold (frames the scheduler superseded aside)
    assert min(off) >= CYCLE_S - 0.4 - HOLD_S - 0.5  # OFF until the next visit
    counts = {payload for _, payload in view.history(count)}
    assert counts <= {b"0", b"1"}
    count_periods = periods(view.history(count))
    if count_periods and count_periods[0][0] == b"0":
        count_periods = count_periods[1:]
    assert len(count_periods) == len(states)  # the count flips with occupancy, held alike
