"""Human-friendly sizes ("64MiB") and durations ("7d") for config values."""

from __future__ import annotations

import re

_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}
_DURATION_UNITS = {"": 1.0, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_NUMBER_UNIT = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$")


def _split(text: str, what: str, units: dict[str, float] | dict[str, int]) -> tuple[float, str]:
    match = _NUMBER_UNIT.match(text)
    if match is None or match.group(2).lower() not in units:
        names = ", ".join(u for u in units if u)
        raise ValueError(f"not a {what}: {text!r} (expected a number with an optional unit: {names})")
    return float(match.group(1)), match.group(2).lower()


def parse_size(value: object) -> int:
    """Bytes from an int or a string like ``"64MiB"``, ``"500kB"``, ``"1048576"``."""
    if isinstance(value, bool):
        raise ValueError("a size must be a number of bytes or a string like '64MiB'")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        number, unit = _split(value, "size", _SIZE_UNITS)
        return int(number * _SIZE_UNITS[unit])
    raise ValueError(f"a size must be a number of bytes or a string like '64MiB' (got {value!r})")


def parse_duration(value: object) -> float | None:
    """Seconds from a number or a string like ``"7d"``, ``"90s"``, ``"250ms"``; ``None`` stays ``None``."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("a duration must be seconds or a string like '7d'")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        number, unit = _split(value, "duration", _DURATION_UNITS)
        return number * _DURATION_UNITS[unit]
    raise ValueError(f"a duration must be seconds or a string like '7d' (got {value!r})")
