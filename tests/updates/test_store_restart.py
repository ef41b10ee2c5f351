"""After a restart the device serves the version that was active, never a half-written file."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
from pathlib import Path

import pytest

from cloud_sync.models import MemoryHub, ModelStore, ModelUpdatesConfig, StoredModel
from edge_runtime.sections import AcceleratorConfig
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


DAMAGED = {  # parses as JSON, but is not a pointer `activate` writes
    "no path": {"active": {"name": "digits", "version": 2, "sha256": "ab" * 32}, "updated_at": 1.0},
    "version a string": {"active": {"name": "digits", "version": "two", "sha256": "ab" * 32, "path": "x"}},
    "active a list": {"active": ["digits", 2]},
    "updated_at a string": {"active": None, "updated_at": "soon"},
    "not an object": ["active"],
}


@pytest.mark.parametrize("body", DAMAGED.values(), ids=DAMAGED.keys())
def test_a_pointer_with_a_missing_or_mistyped_field_counts_as_none(
    tmp_path: Path, body: object, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "store" / "digits").mkdir(parents=True)
    (tmp_path / "store" / "digits" / "active.json").write_text(json.dumps(body))
    config = ModelUpdatesConfig(dir=tmp_path / "store")
    handles = load_models({"digits": digits_config()}, AcceleratorConfig(threads=1), tmp_path, config)
    assert handles["digits"].ref.sha256 == _sha(DIGITS)
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1, warnings  # one line, no traceback
    assert "active.json: damaged" in warnings[0]
    store = ModelStore(tmp_path / "store")
    assert (store.active("digits"), store.previous("digits"), store.updated_at("digits")) == (None, None, 0.0)


def test_a_push_over_a_damaged_pointer_is_taken_and_the_receiver_lives_on(tmp_path: Path) -> None:
    cloud = Cloud(tmp_path)
    hub = MemoryHub()

    async def scenario() -> None:
        device = Device(tmp_path, cloud, hub.device(DEVICE))
        async with device.running(stream=False):
            (tmp_path / "store" / "digits").mkdir(parents=True, exist_ok=True)
            (tmp_path / "store" / "digits" / "active.json").write_text(json.dumps(DAMAGED["updated_at a string"]))
            assert (await cloud.push(hub.cloud(), ALT, 2))["state"] == "active"
            assert (await cloud.push(hub.cloud(), DIGITS, 3))["state"] == "active"  # the receive task still runs

    asyncio.run(scenario())


def _kept(store: ModelStore, version: int, source: Path) -> StoredModel:
    staged = store.staging_path("digits", f"p{version}")
    shutil.copy(source, staged)
    return store.keep("digits", staged, version, _sha(source), None)


def test_start_up_deletes_version_files_no_pointer_names(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    old, active = _kept(store, 2, ALT), _kept(store, 3, DIGITS)
    store.activate(active, old, 1.0)
    orphan = _kept(store, 4, ALT)  # a crash between keep and activate
    store.clean_staging()
    assert sorted(p.name for p in (tmp_path / "digits").glob("*.tflite")) == sorted([old.path.name, active.path.name])
    assert not orphan.path.exists()
    assert store.active("digits") == active


def test_start_up_deletes_a_kept_version_of_a_first_push_that_never_became_active(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    orphan = _kept(store, 2, ALT)  # no pointer yet: the crash came before the first activate
    store.clean_staging()
    assert not orphan.path.exists()


def test_start_up_keeps_version_files_when_the_pointer_is_damaged(tmp_path: Path) -> None:
    store = ModelStore(tmp_path)
    kept = _kept(store, 2, ALT)
    store.activate(kept, None, 1.0)
    (tmp_path / "digits" / "active.json").write_text('{"active": {"name": "digits"}}')
    store.clean_staging()
    assert kept.path.exists()  # what a damaged pointer named cannot be told from a leftover
