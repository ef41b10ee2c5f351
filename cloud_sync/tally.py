"""What the cloud side saw, per device and stream: received, duplicates, gaps in seq, reorderings.

De-duplication is by ``(device, boot_id, stream, seq)``. Gaps and reorderings are counted per boot (seq restarts
with a new boot_id): gaps are the seqs missing between the lowest and highest seen, a reordering is a new seq
lower than one already seen. Keys are kept in memory for the life of the listener.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cloud_sync.envelope import Key, key_of


@dataclass
class _Boot:
    low: int
    high: int
    count: int = 0


@dataclass
class StreamTally:
    received: int = 0
    duplicates: int = 0
    reorderings: int = 0
    boots: dict[str, _Boot] = field(default_factory=dict)

    @property
    def gaps(self) -> int:
        return sum(b.high - b.low + 1 - b.count for b in self.boots.values())

    def as_dict(self) -> dict[str, int]:
        return {
            "received": self.received,
            "duplicates": self.duplicates,
            "gaps": self.gaps,
            "reorderings": self.reorderings,
            "boots": len(self.boots),
        }


class Tally:
    """Feed it envelopes; ask it whether each is new, and for a report."""

    def __init__(self) -> None:
        self._seen: set[Key] = set()
        self._streams: dict[tuple[str, str], StreamTally] = {}
        self.invalid = 0
        self.status: dict[str, str] = {}

    def seed(self, envelope: dict[str, Any]) -> None:
        """Remember a key stored by an earlier run (so it is a duplicate now) without counting it."""
        self._seen.add(key_of(envelope))

    def add(self, envelope: dict[str, Any]) -> bool:
        """Count one envelope; True when it is new (not a duplicate)."""
        key = key_of(envelope)
        stream = self._streams.setdefault((key.device, key.stream), StreamTally())
        if key in self._seen:
            stream.duplicates += 1
            return False
        self._seen.add(key)
        stream.received += 1
        boot = stream.boots.get(key.boot_id)
        if boot is None:
            stream.boots[key.boot_id] = _Boot(key.seq, key.seq, 1)
            return True
        if key.seq < boot.high:
            stream.reorderings += 1
        boot.low, boot.high = min(boot.low, key.seq), max(boot.high, key.seq)
        boot.count += 1
        return True

    @property
    def empty(self) -> bool:
        """Nothing was counted yet."""
        return not self._streams and not self.invalid and not self.status

    def report(self) -> dict[str, Any]:
        devices: dict[str, dict[str, Any]] = {}
        for (device, name), stream in sorted(self._streams.items()):
            devices.setdefault(device, {"streams": {}})["streams"][name] = stream.as_dict()
        for device, state in self.status.items():
            devices.setdefault(device, {"streams": {}})["status"] = state
        totals = {k: sum(s.as_dict()[k] for s in self._streams.values()) for k in
                  ("received", "duplicates", "gaps", "reorderings")}
        return {"devices": devices, "totals": totals, "invalid": self.invalid}

    def summary(self) -> list[str]:
        """Human-readable lines, one per device and stream."""
        lines = [f"{'device':<20} {'stream':<16} {'received':>9} {'dups':>6} {'gaps':>6} {'reorder':>7}"]
        for (device, name), stream in sorted(self._streams.items()):
            d = stream.as_dict()
            lines.append(f"{device:<20} {name:<16} {d['received']:>9} {d['duplicates']:>6} {d['gaps']:>6} "
                         f"{d['reorderings']:>7}")
        if self.invalid:
            lines.append(f"invalid messages: {self.invalid}")
        return lines
