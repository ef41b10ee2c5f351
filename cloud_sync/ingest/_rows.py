"""What one MQTT message becomes in the database: a row of one table, or a `rejected` row with the reason.

Messages are hostile until checked: bounded in size before parsing, nesting depth caught, the topic's device
must be the envelope's device, and JSON that a JSONB column would refuse (NaN, NUL characters) is refused here.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from cloud_sync.envelope import EnvelopeError, key_of

MAX_BYTES = 256 * 1024
_HEAD = 256  # bytes of a rejected message kept for a look


@dataclass(frozen=True, slots=True)
class Keyed:
    """A result, event or stats envelope: goes to `table`, de-duplicated on (device, boot_id, stream, seq)."""

    table: str  # results | events | stats
    device: str
    boot_id: str
    stream: str
    seq: int
    kind: str
    ts_result: float | None
    received_at: float
    payload: str


@dataclass(frozen=True, slots=True)
class Status:
    device: str
    online: bool
    received_at: float


@dataclass(frozen=True, slots=True)
class ModelStatus:
    device: str
    push_id: str
    name: str
    version: int | None
    state: str
    reason: str
    received_at: float


@dataclass(frozen=True, slots=True)
class Rejected:
    topic: str
    reason: str
    size: int
    head: bytes
    received_at: float


Row = Keyed | Status | ModelStatus | Rejected


class _Refused(ValueError):
    pass


def _no_constant(name: str) -> Any:
    raise _Refused(f"not strict JSON: {name}")


def _parse(payload: bytes) -> dict[str, Any]:
    if b"\\u0000" in payload:
        raise _Refused("JSON holds a NUL character (\\u0000)")
    try:
        value = json.loads(payload, parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Refused(f"not JSON: {exc}") from None
    except RecursionError:
        raise _Refused("JSON nested too deeply") from None
    if not isinstance(value, dict):
        raise _Refused(f"not a JSON object: {type(value).__name__}")
    try:
        json.dumps(value, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        raise _Refused("JSON holds a lone UTF-16 surrogate (\\ud800-\\udfff)") from None
    return value


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _keyed(table: str, device: str, payload: bytes, now: float) -> Keyed:
    envelope = _parse(payload)
    try:
        key = key_of(envelope)
    except EnvelopeError as exc:
        raise _Refused(str(exc)) from None
    if key.device != device:
        raise _Refused(f"envelope device {key.device!r} differs from the topic's {device!r}")
    kind = envelope.get("kind")
    return Keyed(table, key.device, key.boot_id, key.stream, key.seq, kind if isinstance(kind, str) else "",
                 _number(envelope.get("ts_result")), now, payload.decode())


def _model_status(device: str, payload: bytes, now: float) -> ModelStatus:
    body = _parse(payload)
    state = body.get("state")
    if not isinstance(state, str) or not state:
        raise _Refused("model status without a 'state'")
    version = body.get("version")
    return ModelStatus(device, str(body.get("push_id") or ""), str(body.get("name") or ""),
                       version if isinstance(version, int) and not isinstance(version, bool) else None,
                       state, str(body.get("reason") or ""), now)


def _status(device: str, payload: bytes, now: float) -> Status:
    text = payload.strip().lower()
    if text not in (b"online", b"offline"):
        raise _Refused("status is neither 'online' nor 'offline'")
    return Status(device, text == b"online", now)


def classify(prefix: str, topic: str, payload: bytes, max_bytes: int = MAX_BYTES) -> Row:
    """The row `payload` received on `topic` makes; never raises."""
    now = time.time()
    try:
        if len(payload) > max_bytes:
            raise _Refused(f"message of {len(payload)} bytes is over the {max_bytes}-byte limit")
        device, what = _route(prefix, topic)
        if what in ("results", "events", "stats"):
            return _keyed(what, device, payload, now)
        if what == "models/status":
            return _model_status(device, payload, now)
        return _status(device, payload, now)
    except _Refused as exc:
        return Rejected(topic, str(exc), len(payload), payload[:_HEAD], now)


def _route(prefix: str, topic: str) -> tuple[str, str]:
    """(device, what) of an ingest topic: what is results | events | stats | status | models/status."""
    levels = topic.split("/")
    if len(levels) >= 3 and levels[0] == prefix:
        device, rest = levels[1], levels[2:]
        if rest[0] in ("results", "events") and len(rest) == 2:
            return device, rest[0]
        if rest in (["stats"], ["status"], ["models", "status"]):
            return device, "/".join(rest)
    raise _Refused(f"not an ingest topic under {prefix!r}")
