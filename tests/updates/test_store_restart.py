"""After a restart the device serves the version that was active, never a half-written file."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from cloud_sync.models import MemoryHub, ModelStore, ModelUpdatesConfig, StoredModel
from edge_runtime.config import AcceleratorConfig
from edge_runtime.updates import load_models
from tests.updates.support import DEVICE, DIGITS, MODELS, Cloud, Device, digits_config

pytestmark = pytest.mark.timeout(60)
ALT = MODELS / "test_alt.tflite"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_restart_serves_the_pushed_version_and_ignores_leftovers(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path)
    hub = MemoryHub()

    async def push() -> None:
        device = Device(tmp_path, cloud, hub.device(DEVICE))
        async with device.running(stream=False):
            assert (await cloud.push(hub.cloud(), ALT, 2))["state"] == "active"

    asyncio.run(push())
    store_dir = tmp_path / "store" / "digits"
    # A crash in the middle of the next update: a half-written staging file and pointer temp file.
    (store_dir / ".staging").mkdir(exist_ok=True)
    (store_dir / ".staging" / "ab.part").write_bytes(b"half")
    (store_dir / "active.json.tmp").write_text('{"active": {"name": "digits", "vers')
    config = ModelUpdatesConfig(dir=tmp_path / "store")
    handles = load_models({"digits": digits_config()}, AcceleratorConfig(threads=1), tmp_path, config)
    assert handles["digits"].ref.sha256 == _sha(ALT)
    assert handles["digits"].ref.version == 2
    assert not (store_dir / ".staging").exists()
    assert not (store_dir / "active.json.tmp").exists()
    pointer = json.loads((store_dir / "active.json").read_text())
    assert pointer["previous"]["sha256"] == _sha(DIGITS)  # the previous version is kept


def test_a_damaged_active_file_falls_back_to_the_configured_model(tmp_path: Path) -> None:
    store = ModelStore(tmp_path / "store")
    staged = store.staging_path("digits", "p1")
    shutil.copy(ALT, staged)
    kept = store.keep("digits", staged, 2, _sha(ALT), None)
    store.activate(kept, None, 1.0)
    kept.path.write_bytes(ALT.read_bytes()[:500])  # damaged behind the store's back
    config = ModelUpdatesConfig(dir=tmp_path / "store")
    handles = load_models({"digits": digits_config()}, AcceleratorConfig(threads=1), tmp_path, config)
    assert handles["digits"].ref.sha256 == _sha(DIGITS)


def test_pointer_replacement_is_atomic_and_prunes_old_versions(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    entries = []
    for version, source in ((2, ALT), (3, DIGITS), (4, ALT)):
        staged = store.staging_path("digits", f"p{version}")
        shutil.copy(source, staged)
        entries.append(store.keep("digits", staged, version, _sha(source), None))
    store.activate(entries[0], None, 1.0)
    store.activate(entries[1], entries[0], 2.0)
    store.activate(entries[2], entries[1], 3.0)
    assert store.active("digits") == entries[2]
    assert store.previous("digits") == entries[1]
    assert sorted(p.name for p in (tmp_path / "digits").glob("*.tflite")) == [
        entries[1].path.name,
        entries[2].path.name,
    ]
    assert store.updated_at("digits") == 3.0
    assert StoredModel.from_json(entries[2].as_json()) == entries[2]
