"""The `devices` rows a batch updates: what each message tells about its device (the fleet registry's input)."""

from __future__ import annotations

import json
from typing import Any

from cloud_sync.ingest._rows import Keyed, ModelStatus, Row, Status

_FIELDS = ("online", "status_at", "last_seen", "boot_id", "outbox_depth", "uplink_drops")
DeviceParams = tuple[Any, ...]


def device_updates(rows: list[Row] | tuple[Row, ...] | Any) -> list[DeviceParams]:
    """One upsert per device seen in `rows`, in device order: the latest of each field the batch carries."""
    devices: dict[str, dict[str, Any]] = {}
    for row in rows:
        if isinstance(row, Keyed | Status | ModelStatus):
            fields = devices.setdefault(row.device, dict.fromkeys(_FIELDS))
            fields["last_seen"] = max(fields["last_seen"] or 0.0, row.received_at)
        if isinstance(row, Status):
            fields.update(online=int(row.online), status_at=row.received_at)
        elif isinstance(row, Keyed):
            fields["boot_id"] = row.boot_id
            if row.table == "stats":
                fields.update(_uplink(row.payload))
    return [(device, *(fields[name] for name in _FIELDS)) for device, fields in sorted(devices.items())]


def _uplink(payload: str) -> dict[str, int]:
    """Outbox depth and uplink drops from a stats envelope's ``payload.uplink`` (what is there of them)."""
    uplink = json.loads(payload).get("payload", {})
    uplink = uplink.get("uplink") if isinstance(uplink, dict) else None
    if not isinstance(uplink, dict):
        return {}
    found: dict[str, int] = {}
    outbox = uplink.get("outbox")
    entries = outbox.get("entries") if isinstance(outbox, dict) else None
    if isinstance(entries, int) and not isinstance(entries, bool):
        found["outbox_depth"] = entries
    drops = uplink.get("drops")
    if isinstance(drops, dict):
        found["uplink_drops"] = sum(v for v in drops.values() if isinstance(v, int) and not isinstance(v, bool))
    return found
