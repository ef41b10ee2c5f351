"""A second push of the version a device already took (a resumed rollout) is answered `active`, not refused."""

from __future__ import annotations

import asyncio
import hashlib
from pathlib import Path
from typing import Any

from cloud_sync.fleet._agent import FakeInstaller
from cloud_sync.models.manifest import Target, make_manifest
from cloud_sync.models.store import ModelStore, StoredModel


class Reports:
    def __init__(self) -> None:
        self.states: list[tuple[str, str | None]] = []

    async def __call__(self, state: str, reason: str | None = None, **fields: Any) -> None:
        del fields
        self.states.append((state, reason))


def _staged(store: ModelStore, data: bytes, version: int) -> StoredModel:
    sha = hashlib.sha256(data).hexdigest()
    path = store.version_path("faces", version, sha)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return StoredModel("faces", version, sha, path)


def test_the_version_served_already_is_active_and_an_older_one_is_refused(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    installer = FakeInstaller(store, {"faces": 1}, load_s=0.0, fails=False)
    data = b"model v2"
    manifest = make_manifest("faces", 2, data, Target(devices=("d1",)))

    async def scenario() -> tuple[Reports, Reports, Reports]:
        first, again, older = Reports(), Reports(), Reports()
        await installer.install(_staged(store, data, 2), manifest, first)  # type: ignore[arg-type]
        await installer.install(_staged(store, data, 2), manifest, again)  # type: ignore[arg-type]
        other = make_manifest("faces", 2, b"another v2", Target(devices=("d1",)))
        await installer.install(_staged(store, b"another v2", 2), other, older)  # type: ignore[arg-type]
        return first, again, older

    first, again, older = asyncio.run(scenario())
    assert first.states[-1] == ("active", None)
    assert again.states == [("active", "already serving this version")]
    assert older.states[-1][0] == "rejected"  # same number, other bytes: not newer, refused as before
    assert installer.serving["faces"][0] == 2
