"""Strict JSON for envelopes: never `NaN` or `Infinity`, which most JSON parsers refuse.

A non-finite number (a window's mean of two readings of 1e308 overflows to infinity) becomes `null`, and the
envelope says where in `"non_finite": ["payload.values.t.mean", ...]`. The common case costs one `json.dumps`:
the envelope is only walked when that refuses it.

`dumps_utf8` (the outbox's and the wire's bytes) uses `orjson` when it is installed (optional: about 8x faster,
so the committer holds the GIL less while frames run): orjson writes a non-finite number as null without a
word, so its output is kept only when it holds no `null` at all; otherwise (and for anything orjson refuses or
would serialize where `json` refuses: subclasses, dataclasses, datetimes) the `json` path decides, as above.
"""

from __future__ import annotations

import json
import math
from typing import Any

try:
    import orjson
except ImportError:  # optional: the standard library's json does the same, slower
    orjson = None  # type: ignore[assignment]

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


_ORJSON_AS_JSON = (
    0
    if orjson is None
    else (orjson.OPT_PASSTHROUGH_SUBCLASS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME)
)  # refuse what `json` refuses


def dumps_utf8(value: Any) -> bytes:
    """`dumps(value, ensure_ascii=False)` as UTF-8 bytes: equal JSON (number spellings may differ: 1e-7 vs
    1e-07), by orjson when installed."""
    if orjson is not None:
        try:
            data = orjson.dumps(value, option=_ORJSON_AS_JSON)
        except TypeError:  # orjson.JSONEncodeError too: json says what is wrong (or accepts what orjson cannot)
            pass
        else:
            if b"null" not in data:  # no null: no non-finite number was replaced without a word
                return data
    return dumps(value, ensure_ascii=False).encode()


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
