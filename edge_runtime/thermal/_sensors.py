"""The device's temperatures and throttle flags, read from sysfs (Linux: Raspberry Pi, Jetson, x86).

* ``class/thermal/thermal_zone*/temp``: millidegrees Celsius, named by the zone's ``type`` file;
* ``devices/platform/soc/soc:firmware/get_throttled`` (Raspberry Pi): a hex bit field; bit 0 under-voltage
  now, 1 ARM frequency capped, 2 throttled now, 3 soft temperature limit; bits 16-19 the same "since boot".

Files are small and untrusted: each read is bounded, and a zone that cannot be read is left out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

MAX_READ = 64
PI_THROTTLED = Path("devices/platform/soc/soc:firmware/get_throttled")
FLAGS = {0: "under_voltage", 1: "freq_capped", 2: "throttled", 3: "soft_temp_limit"}
MAX_ZONES = 64


@dataclass(frozen=True, slots=True)
class Readings:
    temps_c: dict[str, float] = field(default_factory=dict)  # zone name -> degrees Celsius
    throttled: int | None = None  # the Pi's raw flags, None when the file is absent

    @property
    def hottest_c(self) -> float | None:
        return max(self.temps_c.values(), default=None)

    def flags(self) -> dict[str, bool]:
        """The Pi's current conditions by name (empty without the file)."""
        if self.throttled is None:
            return {}
        return {name: bool(self.throttled >> bit & 1) for bit, name in FLAGS.items()}

    @property
    def throttling(self) -> bool:
        """The firmware is throttling (or at its soft temperature limit) right now."""
        flags = self.flags()
        return flags.get("throttled", False) or flags.get("soft_temp_limit", False)


def read(root: Path) -> Readings:
    temps: dict[str, float] = {}
    zones = sorted((root / "class" / "thermal").glob("thermal_zone*"))[:MAX_ZONES]
    for zone in zones:
        value = _small(zone / "temp")
        if value is None:
            continue
        try:
            celsius = int(value) / 1000.0
        except ValueError:
            continue
        name = _small(zone / "type") or zone.name
        temps[name if name not in temps else f"{name}:{zone.name}"] = celsius
    raw = _small(root / PI_THROTTLED)
    throttled = None
    if raw is not None:
        try:
            throttled = int(raw.removeprefix("throttled="), 16)
        except ValueError:
            throttled = None
    return Readings(temps, throttled)


def _small(path: Path) -> str | None:
    try:
        with path.open("rb") as f:
            return f.read(MAX_READ).decode("ascii", "replace").strip()
    except OSError:
        return None
