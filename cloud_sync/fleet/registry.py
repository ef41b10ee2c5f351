"""The fleet registry: what the ingest database knows of each device, from what devices publish anyway
(retained status with birth and Last Will, envelopes, stats, model status)."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from cloud_sync.ingest import Store
from cloud_sync.models.manifest import KEYS_NAME


@dataclass(frozen=True)
class Device:
    device: str
    group: str | None
    online: bool | None  # None: no status seen yet
    last_seen: float | None
    boot_id: str | None
    models: dict[str, int]  # name -> active version
    outbox_depth: int | None
    uplink_drops: int | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def devices(store: Store, group: str | None = None) -> list[Device]:
    """Every device the database knows (of `group`, when given), by name."""
    where, params = ("WHERE grp = ?", (group,)) if group else ("", ())
    rows = store.query("SELECT device, grp, online, last_seen, boot_id, outbox_depth, uplink_drops "
                       f"FROM devices {where} ORDER BY device", params)
    models = active_models(store)
    return [Device(r[0], r[1], None if r[2] is None else bool(r[2]), r[3], r[4], models.get(r[0], {}), r[5], r[6])
            for r in rows]


def active_models(store: Store) -> dict[str, dict[str, int]]:
    """device -> {model name: version} from the latest ``active`` model status of each (device, name)."""
    found: dict[str, dict[str, int]] = {}
    for device, name, version in store.query(
            "SELECT device, name, version FROM model_status WHERE state = 'active' AND version IS NOT NULL "
            "AND name <> ? ORDER BY id", (KEYS_NAME,)):
        found.setdefault(device, {})[name] = version
    return found


def assign(store: Store, group: str, names: Sequence[str]) -> None:
    """Put devices in `group` (a device not seen yet is registered, offline until it speaks)."""
    with store.transaction() as cur:
        cur.executemany(store.sql("INSERT INTO devices (device, grp) VALUES (?, ?) "
                                  "ON CONFLICT (device) DO UPDATE SET grp = excluded.grp"),
                        [(name, group) for name in sorted(set(names))])


def table(fleet: Sequence[Device], now: float | None = None) -> list[str]:
    """The registry as an aligned text table."""
    now = time.time() if now is None else now
    head = ("DEVICE", "GROUP", "STATE", "LAST SEEN", "BOOT", "MODELS", "OUTBOX", "DROPS")
    lines = [head] + [(
        d.device, d.group or "-", {True: "online", False: "offline", None: "unknown"}[d.online],
        _ago(now, d.last_seen), (d.boot_id or "-")[:8],
        ",".join(f"{n}:v{v}" for n, v in sorted(d.models.items())) or "-",
        _num(d.outbox_depth), _num(d.uplink_drops),
    ) for d in fleet]
    widths = [max(len(row[i]) for row in lines) for i in range(len(head))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in lines]


def _ago(now: float, then: float | None) -> str:
    if then is None:
        return "never"
    seconds = max(now - then, 0.0)
    return f"{seconds:.0f}s ago" if seconds < 120 else f"{seconds / 60:.0f}m ago"


def _num(value: int | None) -> str:
    return "-" if value is None else str(value)
