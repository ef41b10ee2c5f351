"""The device's staging-file work (create, write, fsync, rename, delete, clean-up) never runs on the event loop.

Python's audit events name the file operations as they happen; the loop runs on the main thread here."""

from __future__ import annotations

import asyncio
import sys
import threading
from pathlib import Path

import pytest

from cloud_sync.models import MemoryHub
from tests.updates.support import DEVICE, DIGITS, Cloud, Device

pytestmark = pytest.mark.timeout(60)
_EVENTS = ("open", "os.rename", "os.remove", "shutil.rmtree")
_recording: list[list[tuple[str, str, str]]] = []  # while a test records: one list of (event, path, thread)


def _audit(event: str, args: tuple[object, ...]) -> None:
    if _recording and event in _EVENTS and args and ".staging" in str(args[0]):
        _recording[0].append((event, str(args[0]), threading.current_thread().name))


sys.addaudithook(_audit)  # hooks cannot be removed: this one does nothing outside the test below


def test_staging_file_work_runs_in_named_threads(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path)
    hub = MemoryHub()

    async def scenario() -> None:
        device = Device(tmp_path, cloud, hub.device(DEVICE))
        leftover = tmp_path / "store" / "digits" / ".staging" / "old.part"  # an interrupted transfer
        leftover.parent.mkdir(parents=True)
        leftover.write_bytes(b"half")
        _recording.append(seen)
        async with device.running(stream=False):
            final = await cloud.push(hub.cloud(), DIGITS, 2, chunk_size=4096)
            assert final["state"] == "active", final
            truncated = await cloud.push(hub.cloud(), DIGITS, 3, chunk_size=4096, sha256="ab" * 32)
            assert truncated["state"] == "rejected", truncated  # its staging file is deleted
        assert not leftover.exists()

    seen: list[tuple[str, str, str]] = []
    try:
        asyncio.run(scenario())
    finally:
        _recording.clear()
    assert {event for event, _, _ in seen} == set(_EVENTS), seen  # every kind of operation was looked at
    on_loop = [(event, path) for event, path, thread in seen if thread == threading.main_thread().name]
    assert on_loop == [], on_loop
    assert {thread.split(":")[1] for _, _, thread in seen} <= {"clean", "write", "keep", "check"}, seen
