"""The device's model store: staged transfers, kept versions, and the active pointer of each model.

Layout under `root` (default ``var/models``)::

    <name>/<version>-<sha256[:12]>.tflite    a verified version (the active one and the previous one are kept)
    <name>/active.json                        {"active": {...}, "previous": {...} | null, "updated_at": ...}
    <name>/.staging/<push_id>.part            a transfer in progress (deleted at start-up)

`active.json` is replaced atomically (temp file, fsync, `os.replace`, fsync of the directory), and a version file
is only renamed into place once its SHA-256 is checked, so after a crash the pointer names a complete file.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("cloud_sync.models")
POINTER = "active.json"


@dataclass(frozen=True, slots=True)
class StoredModel:
    """One version of a model on the device. `path` is absolute; `model` holds description changes, if any."""

    name: str
    version: int
    sha256: str
    path: Path
    model: dict[str, Any] | None = None

    def as_json(self) -> dict[str, Any]:
        body = asdict(self)
        body["path"] = str(self.path)
        return body

    @classmethod
    def from_json(cls, body: object) -> StoredModel:
        """The entry `as_json` wrote; ValueError naming what is wrong when `body` is not one."""
        if not isinstance(body, dict):
            raise ValueError(f"entry is a {type(body).__name__}, not an object")
        missing = [key for key in ("name", "version", "sha256", "path") if key not in body]
        if missing:
            raise ValueError(f"entry lacks {', '.join(missing)}")
        name, version, sha256, path, model = (body.get(k) for k in ("name", "version", "sha256", "path", "model"))
        if not (isinstance(name, str) and isinstance(sha256, str) and isinstance(path, str)):
            raise ValueError("entry name, sha256 and path must be strings")
        if not isinstance(version, int) or isinstance(version, bool):
            raise ValueError(f"entry version {version!r} is not an integer")
        if model is not None and not isinstance(model, dict):
            raise ValueError("entry model must be an object or null")
        return cls(name, version, sha256, Path(path), model)


class ModelStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._damage: dict[str, str] = {}  # model name -> the damage last logged (each is logged once)

    def model_dir(self, name: str) -> Path:
        return self.root / name

    def version_path(self, name: str, version: int, sha256: str) -> Path:
        return self.model_dir(name) / f"{version}-{sha256[:12]}.tflite"

    def staging_path(self, name: str, push_id: str) -> Path:
        path = self.model_dir(name) / ".staging" / f"{push_id}.part"
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def clean_staging(self) -> None:
        """Start-up (blocking): forget transfers in progress, temp files of interrupted pointer writes, and version
        files no pointer names (a crash between `keep` and `activate`, or while `activate` pruned).

        Version files stay when the pointer is damaged: what it named cannot be told apart from leftovers.
        """
        if not self.root.is_dir():
            return
        for model_dir in self.root.iterdir():
            if not model_dir.is_dir():
                continue
            shutil.rmtree(model_dir / ".staging", ignore_errors=True)
            for tmp in model_dir.glob("*.tmp"):
                tmp.unlink(missing_ok=True)
            self._prune(model_dir)

    def _prune(self, model_dir: Path) -> None:
        pointer = self._load_pointer(model_dir.name)
        if pointer is None:
            return
        named = {Path(e["path"]).resolve() for e in (pointer.get("active"), pointer.get("previous")) if e}
        for version in model_dir.glob("*.tflite"):
            if version.resolve() not in named:
                log.info("%s: no pointer names it (an update interrupted); deleted", version)
                version.unlink(missing_ok=True)

    def keep(self, name: str, staged: Path, version: int, sha256: str, model: dict[str, Any] | None) -> StoredModel:
        """Move a checked staging file into place as a version of `name`."""
        path = self.version_path(name, version, sha256)
        _fsync(staged)
        os.replace(staged, path)
        _fsync(path.parent)
        return StoredModel(name, version, sha256, path.resolve(), model)

    def pointer(self, name: str) -> dict[str, Any]:
        """The checked contents of `name`'s active.json; {} when there is none or it is damaged (logged)."""
        body = self._load_pointer(name)
        return body if body is not None else {}

    def _load_pointer(self, name: str) -> dict[str, Any] | None:
        """{} when there is no pointer, None when it is damaged: unreadable, not JSON, or a field missing or
        of the wrong type. A damaged pointer counts as no pointer (the configured model is served)."""
        path = self.model_dir(name) / POINTER
        try:
            body = json.loads(path.read_text())
            _check_pointer(body)
        except FileNotFoundError:
            self._damage.pop(name, None)
            return {}
        except (OSError, ValueError) as exc:
            if self._damage.get(name) != str(exc):
                self._damage[name] = str(exc)
                log.warning("%s: damaged (%s); serving the configured model", path, exc)
            return None
        self._damage.pop(name, None)
        assert isinstance(body, dict)
        return body

    def active(self, name: str) -> StoredModel | None:
        """The version to serve after a restart (None: the configured one); a missing file counts as none."""
        entry = self.pointer(name).get("active")
        if not entry:
            return None
        stored = StoredModel.from_json(entry)
        if not stored.path.is_file():
            log.warning("model %r: active version file %s is missing; serving the configured model", name, stored.path)
            return None
        return stored

    def previous(self, name: str) -> StoredModel | None:
        entry = self.pointer(name).get("previous")
        return StoredModel.from_json(entry) if entry else None

    def updated_at(self, name: str) -> float:
        return float(self.pointer(name).get("updated_at", 0.0))

    def activate(self, new: StoredModel, old: StoredModel | None, updated_at: float) -> None:
        """Point at `new`, keep `old` as the previous version; versions the pointer no longer names are deleted."""
        before = self.pointer(new.name)
        self._write_pointer(new.name, {"active": new.as_json(), "previous": old.as_json() if old else None,
                                       "updated_at": updated_at})  # fmt: skip
        named = {Path(e["path"]) for e in (before.get("active"), before.get("previous")) if e}
        for path in named - {new.path, *([old.path] if old else [])}:
            if path.parent == self.model_dir(new.name).resolve():  # never a configured file outside the store
                path.unlink(missing_ok=True)

    def discard(self, model: StoredModel) -> None:
        """Delete a version that was refused after staging (never the active or the previous one)."""
        pointer = self.pointer(model.name)
        kept = {Path(e["path"]) for e in (pointer.get("active"), pointer.get("previous")) if e}
        if model.path not in kept:
            model.path.unlink(missing_ok=True)

    def _write_pointer(self, name: str, body: dict[str, Any]) -> None:
        directory = self.model_dir(name)
        directory.mkdir(parents=True, exist_ok=True)
        tmp = directory / f"{POINTER}.tmp"
        with tmp.open("w") as handle:
            json.dump({"format": 1, "name": name, **body}, handle, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, directory / POINTER)
        _fsync(directory)


def _check_pointer(body: object) -> None:
    """ValueError unless `body` is a pointer as `activate` writes it."""
    if not isinstance(body, dict):
        raise ValueError("not a JSON object")
    for key in ("active", "previous"):
        if body.get(key):
            try:
                StoredModel.from_json(body[key])
            except ValueError as exc:
                raise ValueError(f"{key}: {exc}") from None
    updated_at = body.get("updated_at", 0.0)
    if not isinstance(updated_at, (int, float)) or isinstance(updated_at, bool):
        raise ValueError(f"updated_at {updated_at!r} is not a number")


def _fsync(path: Path) -> None:
    """Flush a file's data, or a directory's entries, to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
