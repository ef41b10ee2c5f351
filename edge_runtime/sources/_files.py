"""Paths in a config are relative to the config file's directory; results name files the same way."""

from __future__ import annotations

from pathlib import Path

from edge_runtime.files import resolve_path


def resolve(path: str, base_dir: Path) -> Path:
    """An absolute path for `path` as written in the config (``~`` expanded, relative to `base_dir`)."""
    return resolve_path(base_dir, path)


def display_name(path: Path, base_dir: Path) -> str:
    """How a result names the file: relative to the config's directory when inside it (``images/0007.png``)."""
    try:
        return path.relative_to(base_dir).as_posix()
    except ValueError:
        return str(path)
