"""Envelope keys, topics and the messages transports carry.

An envelope is identified by ``(device, boot_id, stream, seq)``; the cloud side de-duplicates on it.
Its topic follows from its kind: ``event``/``alert`` go to ``events/<stream>``, ``stats`` to ``stats``, every other
kind to ``results/<stream>``, all under ``<prefix>/<device>/``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple

from cloud_sync.strict_json import dumps as strict_dumps

EVENT_KINDS = frozenset({"event", "alert"})
STATS_KIND = "stats"
_FORBIDDEN_IN_LEVEL = ("/", "+", "#")


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


def _level(envelope: dict[str, Any], field: str) -> str:
    value = envelope.get(field)
    if not isinstance(value, str) or not value:
        raise EnvelopeError(f"envelope field {field!r} must be a non-empty string (got {value!r})")
    if any(ch in value for ch in _FORBIDDEN_IN_LEVEL):
        raise EnvelopeError(f"envelope field {field!r} may not contain / + # (got {value!r})")
    return value


def key_of(envelope: dict[str, Any]) -> Key:
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


def topic_of(prefix: str, envelope: dict[str, Any]) -> str:
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


def encode(envelope: dict[str, Any]) -> bytes:
    """Compact, strict JSON (non-finite numbers as null, flagged: see strict_json), UTF-8: the same bytes in the
    outbox and on the wire."""
    return strict_dumps(envelope, ensure_ascii=False).encode()


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
