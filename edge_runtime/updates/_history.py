"""The model-update history the console and `/api/status` show: the last pushes' milestones, newest first.

It observes the status messages the device sends the cloud (the same words: received, verified, active,
rejected with its reason, rolled_back), so the history and `<prefix>/<device>/models/status` never disagree.
"""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from cloud_sync.models.wire import STATUS, WireError, parse_json

if TYPE_CHECKING:
    from cloud_sync.models.receiver import Send

KEPT = 50
MILESTONES = ("received", "verified", "active", "rejected", "rolled_back")
_FIELDS = ("ts", "state", "name", "version", "sha256", "push_id", "reason", "restored_version")


class UpdateHistory:
    def __init__(self, size: int = KEPT) -> None:
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)

    def record(self, message: Send) -> None:
        """An observer of the model inbox's outgoing messages; keeps the milestones of each push."""
        if message.suffix != STATUS:
            return
        try:
            body = parse_json(message.payload)
        except WireError:
            return
        if body.get("state") in MILESTONES:
            self._entries.append({k: body[k] for k in _FIELDS if body.get(k) is not None})

    def entries(self) -> list[dict[str, Any]]:
        """Newest first."""
        return list(reversed(self._entries))
