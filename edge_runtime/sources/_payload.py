"""Sensor messages to reading values: a plain number, or JSON whose numeric fields become named values.

A message is hostile until checked: over MAX_PAYLOAD_BYTES, nested deeper than MAX_DEPTH, with more than
MAX_VALUES numbers, a number too large for a float (10^400), NaN or Infinity: each is a `BadMessage` saying why,
never another exception, so one message cannot stop a source. Every value returned is a finite float.
"""

from __future__ import annotations

import json
import math
from typing import Literal

PayloadFormat = Literal["auto", "json", "number"]
MAX_PAYLOAD_BYTES = 64 * 1024  # a sensor message is a few hundred bytes
MAX_DEPTH = 32  # nested objects and lists
MAX_VALUES = 1024  # numeric fields of one message


class BadMessage(ValueError):
    """A message that carries no usable number; the text says why, in a few words."""


def parse_values(payload: bytes | str, fmt: PayloadFormat = "auto", field: str | None = None) -> dict[str, float]:
    """The values of one message.

    A plain number gives ``{"value": x}``. A JSON object gives its numeric fields (booleans as 0/1), nested
    objects and lists flattened with dots (``{"env": {"t": 21}}`` -> ``{"env.t": 21.0}``); `field` picks one
    of them by that dotted name. Non-numeric fields are ignored; a message with no number at all is bad.
    """
    text = _text(payload)
    if fmt == "number":
        return {"value": _finite(_number(text))}
    data = _json(text, fmt)
    if isinstance(data, (int, float)):
        values = {"value": _finite(_float(data))}
    elif isinstance(data, dict):
        values = flatten(data)
    else:
        raise BadMessage(f"JSON {type(data).__name__} is neither an object nor a number")
    if field is not None:
        if field not in values:
            raise BadMessage(f"no numeric field {field!r}")
        return {field: values[field]}
    if not values:
        raise BadMessage("no numeric fields")
    return values


def flatten(data: object, prefix: str = "", depth: int = 0) -> dict[str, float]:
    """Numeric leaves of nested dicts and lists, keyed by dotted path; non-finite and non-numeric leaves left out.

    BadMessage when nested deeper than MAX_DEPTH or holding more than MAX_VALUES numbers."""
    if depth > MAX_DEPTH:
        raise BadMessage(f"nested deeper than {MAX_DEPTH} levels")
    items: list[tuple[str, object]]
    if isinstance(data, dict):
        items = [(str(key), value) for key, value in data.items()]
    elif isinstance(data, list):
        items = [(str(i), value) for i, value in enumerate(data)]
    else:
        return {}
    values: dict[str, float] = {}
    for key, value in items:
        name = f"{prefix}.{key}" if prefix else key
        number = _as_number(value)
        if number is not None:
            values[name] = number
        else:
            values.update(flatten(value, name, depth + 1))
        if len(values) > MAX_VALUES:
            raise BadMessage(f"more than {MAX_VALUES} numeric fields")
    return values


def _as_number(value: object) -> float | None:
    """A finite JSON number as a float (a bool is an int: true/false read as 1/0), else None."""
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:  # an integer beyond a float's range (10^400)
            return None
        return number if math.isfinite(number) else None
    return None


def _float(value: float) -> float:
    try:
        return float(value)
    except OverflowError:
        raise BadMessage("a number too large for a float") from None


def _json(text: str, fmt: PayloadFormat) -> object:
    try:
        return json.loads(text)
    except RecursionError:
        raise BadMessage(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError:  # also an integer of more than 4300 digits
        raise BadMessage("not JSON" if fmt == "json" else "neither a number nor JSON") from None


def _text(payload: bytes | str) -> str:
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise BadMessage(f"larger than {MAX_PAYLOAD_BYTES} bytes ({len(payload)})")
    if isinstance(payload, str):
        return payload
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        raise BadMessage("not UTF-8 text") from None


def _number(text: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise BadMessage("not a number") from None


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise BadMessage(f"not a finite number ({value})")
    return value
