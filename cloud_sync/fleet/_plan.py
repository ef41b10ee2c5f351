"""A rollout's plan and its state in the database: which devices are in which wave, and how each one ended.

The rollout's id follows from (group, name, version, sha256), so running the same `rollout` again finds the
state it left and resumes: devices already final are not pushed again.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

from cloud_sync.fleet.registry import Device
from cloud_sync.ingest import Store

FINAL = frozenset({"active", "rejected", "rolled_back"})
FAILED = frozenset({"rejected", "rolled_back"})


def parse_waves(text: str) -> list[float]:
    """``1%,10%,50%,100%`` -> [0.01, 0.1, 0.5, 1.0]: increasing, ending at 100%."""
    try:
        waves = [float(part.strip().rstrip("%")) / 100 for part in text.split(",")]
    except ValueError:
        raise ValueError(f"--waves wants percentages like 1%,10%,50%,100% (got {text!r})") from None
    if not waves or any(b <= a for a, b in itertools.pairwise(waves)) or waves[0] <= 0 or waves[-1] != 1:
        raise ValueError(f"--waves must increase and end at 100% (got {text!r})")
    return waves


def assign(devices: Sequence[Device], waves: Sequence[float]) -> dict[str, int]:
    """device -> wave: online devices first (then the rest, by name); wave k holds up to ceil(waves[k] * N)."""
    ordered = sorted(devices, key=lambda d: (d.online is not True, d.device))
    plan: dict[str, int] = {}
    for wave, share in enumerate(waves):
        for device in ordered[len(plan):max(math.ceil(share * len(ordered)), len(plan))]:
            plan[device.device] = wave
    return plan


@dataclass(frozen=True)
class RolloutSpec:
    """What `edge-cloud models rollout` was asked for."""

    group: str
    name: str
    version: int
    sha256: str
    waves: tuple[float, ...]
    success: float = 0.95  # share of a wave that must be active before the next wave starts
    abort: float = 0.05  # share of a wave failed past which the rollout stops
    wave_timeout: float = 300.0
    rollback_on_abort: bool = False
    await_offline: float = 0.0  # after the last wave, seconds to wait for devices that were offline to return

    @property
    def id(self) -> str:
        text = f"{self.group}\0{self.name}\0{self.version}\0{self.sha256}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Rollout:
    id: str
    wave: int
    state: str  # running | done | aborted
    reason: str
    devices: dict[str, tuple[int, str]]  # device -> (wave, state: pending or a final state)

    def members(self, wave: int) -> list[str]:
        return sorted(d for d, (w, _) in self.devices.items() if w == wave)

    def states(self, wave: int, skip: frozenset[str] = frozenset()) -> list[str]:
        return [self.devices[d][1] for d in self.members(wave) if d not in skip]

    def pending(self, upto: int) -> list[str]:
        """Devices of waves up to `upto` with no final state yet."""
        return sorted(d for d, (w, s) in self.devices.items() if w <= upto and s not in FINAL)


def load_or_create(store: Store, spec: RolloutSpec, devices: Sequence[Device]) -> Rollout:
    """The rollout's state from the database; created (waves assigned) the first time."""
    rid = spec.id
    with store.transaction() as cur:
        cur.execute(store.sql("SELECT wave, state, reason FROM rollouts WHERE rollout = ?"), (rid,))
        row = cur.fetchone()
        if row is None:
            cur.execute(store.sql("INSERT INTO rollouts (rollout, grp, name, version, sha256, waves, wave, state, "
                                  "reason, created_at) VALUES (?, ?, ?, ?, ?, ?, 0, 'running', '', ?)"),
                        (rid, spec.group, spec.name, spec.version, spec.sha256, json.dumps(spec.waves), time.time()))
            plan = assign(devices, spec.waves)
            cur.executemany(store.sql("INSERT INTO rollout_devices (rollout, device, wave, state, reason) "
                                      "VALUES (?, ?, ?, 'pending', '')"),
                            [(rid, d, w) for d, w in sorted(plan.items())])
            row = (0, "running", "")
        cur.execute(store.sql("SELECT device, wave, state FROM rollout_devices WHERE rollout = ?"), (rid,))
        members = {str(d): (int(w), str(s)) for d, w, s in cur.fetchall()}
    return Rollout(rid, int(row[0]), str(row[1]), str(row[2]), members)


def record_device(store: Store, rollout: str, device: str, state: str, reason: str) -> None:
    with store.transaction() as cur:
        cur.execute(store.sql("UPDATE rollout_devices SET state = ?, reason = ? WHERE rollout = ? AND device = ?"),
                    (state, reason, rollout, device))


def record_wave(store: Store, rollout: str, wave: int, state: str, reason: str = "") -> None:
    with store.transaction() as cur:
        cur.execute(store.sql("UPDATE rollouts SET wave = ?, state = ?, reason = ? WHERE rollout = ?"),
                    (wave, state, reason, rollout))
