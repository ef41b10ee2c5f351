"""Config problems: one line each, `FILE:LINE:COL: key.path: message`.

The line is built from user input (keys, values), so it is made safe here, once: control characters and
newlines are escaped and each part is cut to a preview, so one problem is always one short line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

PREVIEW_CHARS = 40
_KEY_CHARS = 80
_MESSAGE_CHARS = 180
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    col: int
    key: str  # dotted key path, empty for file-level problems
    message: str

    def __str__(self) -> str:
        key = _cut(escape(self.key), _KEY_CHARS)
        where = f"{key}: " if key else ""
        return f"{escape(self.file)}:{self.line}:{self.col}: {where}{_cut(escape(self.message), _MESSAGE_CHARS)}"


class ConfigError(Exception):
    """One or more problems in a config; str() is one line per problem."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


def preview(value: Any) -> str:
    """A value as the user wrote it, cut short: `'aaaa...' (1000000 chars)`."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        return f"an integer of about {int(value.bit_length() * 0.30103)} digits"
    if isinstance(value, dict | list):
        return f"a {'mapping' if isinstance(value, dict) else 'list'} of {len(value)} item(s)"
    text = repr(value[: PREVIEW_CHARS + 1] if isinstance(value, str) else value)
    if isinstance(value, str) and len(value) > PREVIEW_CHARS:
        return f"{text[:PREVIEW_CHARS]}...' ({len(value)} chars)"
    return _cut(text, PREVIEW_CHARS)


def escape(text: str) -> str:
    """Control characters and line breaks as escapes, so a key or value cannot split or forge a line."""
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."
