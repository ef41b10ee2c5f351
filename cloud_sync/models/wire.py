"""The model-update protocol on the wire: (topic suffix, bytes) messages, the same over MQTT, ZeroMQ or memory.

Cloud to device, on ``<prefix>/<device>/models/push`` (or ``<prefix>/groups/<group>/models/push``):

* query: ``b"EMQ1"`` (unsigned, read-only): the device answers with its models (state ``inventory``);
* manifest: ``b"EMM1"`` + the signed manifest JSON (`manifest.sign_manifest`);
* chunk: ``b"EMC1"`` + push id (16 bytes) + chunk index (uint32, big-endian) + the chunk's bytes.

Device to cloud:

* ``<prefix>/<device>/models/status``: JSON ``{"device", "push_id", "name", "version", "sha256", "state",
  "reason", "ts", ...}``; `state` is one of `STATES`; a refusal of a manifest whose signature did not verify
  carries ``"unverified": true`` and no name: its push id is only what the (maybe forged) message claimed;
* ``<prefix>/<device>/models/need``: JSON ``{"device", "push_id", "missing": [indexes], "have", "total"}``: the
  device pulls the chunks it lacks, a window at a time, so after a link drop only missing chunks travel again.
"""

from __future__ import annotations

import json
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

PUSH = "models/push"
STATUS = "models/status"
NEED = "models/need"
MANIFEST_MAGIC = b"EMM1"
CHUNK_MAGIC = b"EMC1"
QUERY = b"EMQ1"  # unsigned, read-only: "report the models you serve" (answered with state "inventory")
_CHUNK_HEADER = struct.Struct(">4s16sI")
STATES = ("received", "verified", "staged", "canary", "active", "rejected", "rolled_back", "inventory")
FINAL_STATES = frozenset({"active", "rejected", "rolled_back"})


class WireError(ValueError):
    """A message that is not part of the protocol."""


@dataclass(frozen=True, slots=True)
class Chunk:
    push_id: str
    index: int
    data: bytes


def group_topic(prefix: str, group: str, suffix: str = PUSH) -> str:
    return f"{prefix}/groups/{group}/{suffix}"


def push_topics(prefix: str, device: str, groups: Sequence[str] = ()) -> list[str]:
    """The topics a device takes pushes on: its own and each of its groups'."""
    return [f"{prefix}/{device}/{PUSH}", *(group_topic(prefix, g) for g in groups)]


def manifest_message(signed: bytes) -> bytes:
    return MANIFEST_MAGIC + signed


def chunk_message(push_id: str, index: int, data: bytes) -> bytes:
    return _CHUNK_HEADER.pack(CHUNK_MAGIC, bytes.fromhex(push_id), index) + data


def parse_push(payload: bytes) -> bytes | Chunk:
    """The signed manifest body, a Chunk, or `QUERY` itself; WireError for anything else."""
    magic = payload[:4]
    if magic == QUERY:
        return QUERY
    if magic == MANIFEST_MAGIC:
        return payload[4:]
    if magic == CHUNK_MAGIC and len(payload) >= _CHUNK_HEADER.size:
        _, push_id, index = _CHUNK_HEADER.unpack_from(payload)
        return Chunk(push_id.hex(), index, payload[_CHUNK_HEADER.size :])
    raise WireError(f"not a model push message ({len(payload)} bytes starting {payload[:8]!r})")


def status_message(device: str, state: str, *, reason: str | None = None, **fields: Any) -> bytes:
    body: dict[str, Any] = {"device": device, "state": state, "ts": round(time.time(), 3)}
    body.update({k: v for k, v in fields.items() if v is not None})
    if reason is not None:
        body["reason"] = reason
    return json.dumps(body, separators=(",", ":")).encode()


def need_message(device: str, push_id: str, missing: list[int], have: int, total: int) -> bytes:
    body = {"device": device, "push_id": push_id, "missing": missing, "have": have, "total": total}
    return json.dumps(body, separators=(",", ":")).encode()


def parse_json(payload: bytes) -> dict[str, Any]:
    """A status or need body; WireError when it is not a JSON object."""
    try:
        body = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(f"not JSON ({exc})") from None
    if not isinstance(body, dict):
        raise WireError("not a JSON object")
    return body


def device_of(topic: str) -> str | None:
    """The device level of ``<prefix>/<device>/models/...`` (None for other topics)."""
    parts = topic.split("/")
    return parts[-3] if len(parts) >= 4 and parts[-2] == "models" else None
