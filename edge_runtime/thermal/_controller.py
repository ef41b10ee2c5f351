"""The thermal state (normal, warm, hot, with hysteresis) and the frames it sheds, lowest classes first.

Every `interval_s` the sensors are read (in a worker thread: sysfs can stall); the hottest zone and the Pi's
throttle flags decide the state. A state's actions lower the share of frames the configured classes (`normal`,
`low`) submit to the accelerator: a stream keeps `fps_factor` of its frames, evenly spread (each frame earns
`fps_factor` credit; one whole credit sends a frame), `pause_low` stops `low` streams, `lanes` runs the
accelerator on fewer lanes (reserved ones kept), and `threads` rebuilds the interpreters with fewer threads
(through the model-swap path). A shed frame ends as
a ``thermal`` drop of its stream. `high` and `critical` are never touched. Every change is logged and counted.
The shedding decision (`keeps`) may be taken in any thread: a capture thread asks it on the direct path.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping
from typing import Any

from edge_runtime.config._thermal import StateActions, ThermalConfig, ThermalState
from edge_runtime.drops import THERMAL, DropCounter
from edge_runtime.jobs import Dropped, Job
from edge_runtime.sections import Priority
from edge_runtime.thermal._sensors import Readings, read

log = logging.getLogger("edge_runtime.thermal")

_EPSILON = 1e-9
EVENTS_KEPT = 16  # the latest state changes, for the stats topic and the console


def next_state(state: ThermalState, readings: Readings, config: ThermalConfig) -> ThermalState:
    """Enter a state at its threshold; leave it only `hysteresis_c` below. Throttle flags mean at least warm."""
    hottest = readings.hottest_c if readings.hottest_c is not None else float("-inf")
    if hottest >= config.hot_c or (state == "hot" and hottest > config.hot_c - config.hysteresis_c):
        return "hot"
    if readings.throttling or hottest >= config.warm_c:
        return "warm"
    if state != "normal" and hottest > config.warm_c - config.hysteresis_c:
        return "warm"
    return "normal"


def factors(actions: StateActions | None) -> dict[str, float]:
    """The share of frames each class keeps in a state (classes not listed keep all)."""
    if actions is None:
        return {}
    shares: dict[str, float] = dict.fromkeys(actions.classes, actions.fps_factor)
    if actions.pause_low:
        shares["low"] = 0.0
    return shares


class ThermalController:
    def __init__(
        self,
        config: ThermalConfig,
        drops_for: Callable[[str], DropCounter],
        use_lanes: Callable[[int | None], None] | None = None,
        *,
        use_threads: Callable[[int | None], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.state: ThermalState = "normal"
        self.readings = Readings()
        self.changes: Counter[str] = Counter()  # "normal->warm": n
        self.shed: Counter[str] = Counter()  # frames shed, by stream
        self.events: deque[dict[str, Any]] = deque(maxlen=EVENTS_KEPT)
        self.since = clock()
        self._clock = clock
        self._drops_for = drops_for
        self._use_lanes = use_lanes
        self.lanes: int | None = None  # the state's lane limit (None: all lanes)
        self._use_threads = use_threads
        self.threads: int | None = None  # the state's interpreter thread limit (None: as configured)
        self._shares: dict[str, float] = {}
        self._credit: dict[str, float] = {}
        self._lock = threading.Lock()  # the credits and `shed`: capture threads and the loop

    async def run(self) -> None:
        while True:
            self.update(await asyncio.to_thread(read, self.config.sysfs_root))
            await asyncio.sleep(self.config.interval_s)

    def update(self, readings: Readings) -> None:
        self.readings = readings
        state = next_state(self.state, readings, self.config)
        if state == self.state:
            return
        self.changes[f"{self.state}->{state}"] += 1
        old, self.state, self.since = self.state, state, self._clock()
        actions = {"normal": None, "warm": self.config.warm, "hot": self.config.hot}[state]
        with self._lock:
            self._shares = factors(actions)
            self._credit.clear()
        self.lanes = actions.lanes if actions is not None else None
        if self._use_lanes is not None:
            self._use_lanes(self.lanes)
        self._set_threads(actions.threads if actions is not None else None)
        hottest = readings.hottest_c
        heat = "no temperature" if hottest is None else f"hottest zone {hottest:.1f} C"
        flags = ", ".join(k for k, v in readings.flags().items() if v)
        doing = ", ".join(f"{c} at {f:.0%} of its frames" for c, f in sorted(self._shares.items())) or "no shedding"
        doing += f", {self.lanes} lane(s)" if self.lanes is not None else ""
        doing += f", {self.threads} thread(s) per interpreter" if self.threads is not None else ""
        log.warning("thermal: %s -> %s (%s%s): %s", old, state, heat, f"; {flags}" if flags else "", doing)
        self.events.append({"ts": round(self.since, 3), "from": old, "to": state, "hottest_c": hottest})

    def _set_threads(self, threads: int | None) -> None:
        """Rebuild the interpreters only when the limit changes (each rebuild costs every lane a model load)."""
        if threads != self.threads and self._use_threads is not None:
            self._use_threads(threads)
        self.threads = threads

    def keeps(self, classes: Mapping[str, Priority]) -> Callable[[Job], bool]:
        """Whether a job's frame goes on (any thread); a shed one is counted, as its stream's `thermal` drop.
        `classes`: each stream's scheduling class (a stream not listed is `normal`)."""

        def keep(job: Job) -> bool:
            if self.admit(job.stream, classes.get(job.stream, "normal")):
                return True
            with self._lock:
                self.shed[job.stream] += 1
            self._drops_for(job.stream).add(THERMAL)
            return False

        return keep

    def shed_outcome(self, job: Job) -> Dropped:
        """The outcome of a frame `keeps` shed, on the loop's path."""
        del job
        return Dropped(THERMAL, f"device {self.state}")

    def admit(self, stream: str, priority: str) -> bool:
        share = self._shares.get(priority, 1.0)
        if share >= 1.0:
            return True
        with self._lock:
            credit = self._credit.get(stream, 0.0) + share
            if credit >= 1.0 - _EPSILON:
                self._credit[stream] = credit - 1.0
                return True
            self._credit[stream] = credit
            return False

    def _shed(self) -> dict[str, int]:
        with self._lock:
            return dict(self.shed)

    def snapshot(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "since": round(self.since, 3),
            "temps_c": dict(self.readings.temps_c),
            "hottest_c": self.readings.hottest_c,
            "throttled": self.readings.flags(),
            "changes": dict(self.changes),
            "lanes": self.lanes,
            "threads": self.threads,
            "shed": self._shed(),
            "events": list(self.events),
        }
