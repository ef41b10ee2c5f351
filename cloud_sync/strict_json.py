"""Strict JSON for envelopes: never `NaN` or `Infinity`, which most JSON parsers refuse.

A non-finite number (a window's mean of two readings of 1e308 overflows to infinity) becomes `null`, and the
envelope says where in `"non_finite": ["payload.values.t.mean", ...]`. The common case costs one `json.dumps`:
the envelope is only walked when that refuses it.
"""

from __future__ import annotations

import json
import math
from typing import Any

NON_FINITE = "non_finite"  # the envelope key listing the dotted paths of numbers replaced by null


def dumps(value: Any, *, ensure_ascii: bool = True) -> str:
    """Compact JSON with `allow_nan=False`; non-finite floats become null and a top-level dict is flagged."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=ensure_ascii, allow_nan=False)
    except ValueError:
        paths: list[str] = []
        clean = finite(value, "", paths)
        if paths and isinstance(clean, dict):
            clean[NON_FINITE] = paths
        return json.dumps(clean, separators=(",", ":"), ensure_ascii=ensure_ascii, allow_nan=False)


def finite(value: Any, path: str, replaced: list[str]) -> Any:
    """A copy of `value` with every non-finite float replaced by None; their dotted paths appended to `replaced`."""
    if isinstance(value, float) and not math.isfinite(value):
        replaced.append(path)
        return None
    if isinstance(value, dict):
        return {key: finite(item, f"{path}.{key}" if path else str(key), replaced) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [finite(item, f"{path}.{i}" if path else str(i), replaced) for i, item in enumerate(value)]
    return value
