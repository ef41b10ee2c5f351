"""Envelope keys, topics and the messages transports carry.

An envelope (`Envelope`: results, events and stats alike) is identified by ``(device, boot_id, stream, seq)``; the
cloud side de-duplicates on it. Its topic follows from its kind: ``event``/``alert`` go to ``events/<stream>``,
``stats`` to ``stats``, every other kind to ``results/<stream>``, all under ``<prefix>/<device>/``.
What arrives from the network is a plain mapping until `decode` has checked its key.

`PRIORITIES` is the one table of classes, most urgent first: the scheduler ranks by it and the outbox stores
`outbox_priority` (drained highest first).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, TypedDict

from cloud_sync.strict_json import dumps_utf8

Priority = Literal["critical", "high", "normal", "low"]
PRIORITIES: tuple[Priority, ...] = ("critical", "high", "normal", "low")  # most urgent first
EVENT_KINDS = frozenset({"event", "alert"})
STATS_KIND = "stats"
_FORBIDDEN_IN_LEVEL = ("/", "+", "#")


def outbox_priority(priority: Priority) -> int:
    """The outbox's number for a class: critical 3, high 2, normal 1, low 0 (higher drains first)."""
    return len(PRIORITIES) - 1 - PRIORITIES.index(priority)


class ModelInfo(TypedDict):
    """Which model produced a result."""

    name: str
    version: int
    sha256: str


class Provenance(TypedDict, total=False):
    """The optional part of an envelope: where a result came from."""

    model: ModelInfo  # results of a model
    source: str  # file-based sources: the file name
    frame: int  # ... and the frame index within it


class Envelope(Provenance):
    """One result, event or stats message: the same JSON object in JSONL files, the outbox and on the wire."""

    device: str
    stream: str
    seq: int
    boot_id: str
    ts_capture: float
    ts_result: float
    kind: str
    payload: dict[str, Any]


class EnvelopeError(ValueError):
    """An envelope that cannot be keyed or routed (names the field)."""


class Key(NamedTuple):
    """What identifies a result for de-duplication."""

    device: str
    boot_id: str
    stream: str
    seq: int


@dataclass(frozen=True, slots=True)
class Message:
    """One outgoing message: `id` is its outbox row (the transport confirms ids)."""

    id: int
    topic: str
    payload: bytes


@dataclass(frozen=True, slots=True)
class Inbound:
    """One message from the cloud to this device (e.g. on ``<prefix>/<device>/models/push``)."""

    topic: str
    payload: bytes


def _level(envelope: Mapping[str, object], field: str) -> str:
    value = envelope.get(field)
    if not isinstance(value, str) or not value:
        raise EnvelopeError(f"envelope field {field!r} must be a non-empty string (got {value!r})")
    if any(ch in value for ch in _FORBIDDEN_IN_LEVEL):
        raise EnvelopeError(f"envelope field {field!r} may not contain / + # (got {value!r})")
    return value


def key_of(envelope: Mapping[str, object]) -> Key:
    """The de-duplication key; raises EnvelopeError naming the missing or bad field."""
    seq = envelope.get("seq")
    if not isinstance(seq, int) or isinstance(seq, bool):
        raise EnvelopeError(f"envelope field 'seq' must be an integer (got {seq!r})")
    boot = envelope.get("boot_id")
    if not isinstance(boot, str):
        raise EnvelopeError(f"envelope field 'boot_id' must be a string (got {boot!r})")
    return Key(_level(envelope, "device"), boot, _level(envelope, "stream"), seq)


def device_topic(prefix: str, device: str, suffix: str) -> str:
    return f"{prefix}/{device}/{suffix}"


def topic_of(prefix: str, envelope: Mapping[str, object]) -> str:
    """The MQTT topic (and ZeroMQ topic frame) of an envelope."""
    key = key_of(envelope)
    kind = envelope.get("kind")
    if kind == STATS_KIND:
        suffix = "stats"
    elif kind in EVENT_KINDS:
        suffix = f"events/{key.stream}"
    else:
        suffix = f"results/{key.stream}"
    return device_topic(prefix, key.device, suffix)


def encode(envelope: Mapping[str, object]) -> bytes:
    """Compact, strict JSON (non-finite numbers as null, flagged: see strict_json), UTF-8: the same bytes in the
    outbox and on the wire."""
    return dumps_utf8(envelope)


def decode(payload: bytes) -> dict[str, Any]:
    """Parse one envelope; raises EnvelopeError for anything that is not a keyed JSON object."""
    try:
        value = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EnvelopeError(f"not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise EnvelopeError(f"not a JSON object: {type(value).__name__}")
    key_of(value)
    return value
