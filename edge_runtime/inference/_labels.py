"""Class labels: from the config (list or file), else from the model's TFLite metadata (an embedded labels file)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from edge_runtime.files import read_regular_file
from edge_runtime.inference._errors import ModelError


def read_labels(labels: list[str] | str | None, base_dir: Path, where: str) -> tuple[str, ...] | None:
    """The configured labels; a string names a text file (one label per line) relative to ``base_dir``."""
    if labels is None or isinstance(labels, list):
        return None if labels is None else tuple(labels)
    path = base_dir / labels
    try:
        text = read_regular_file(path).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"{where}: cannot read labels file {path} ({exc.__class__.__name__})") from None
    return _parse(text)


def metadata_labels(model: Path) -> tuple[str, ...] | None:
    """Labels packed in the model's metadata: TFLite metadata keeps associated files in a zip appended to the model."""
    try:
        if not zipfile.is_zipfile(model):
            return None
        with zipfile.ZipFile(model) as archive:
            names = [n for n in archive.namelist() if n.lower().endswith(".txt")]
            names.sort(key=lambda n: ("label" not in n.lower(), n))
            if not names:
                return None
            return _parse(archive.read(names[0]).decode("utf-8", errors="replace"))
    except (OSError, zipfile.BadZipFile):
        return None


def _parse(text: str) -> tuple[str, ...]:
    lines = [line.strip() for line in text.splitlines()]
    while lines and not lines[-1]:
        lines.pop()
    return tuple(lines)
