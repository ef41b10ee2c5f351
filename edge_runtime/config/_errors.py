"""Config problems: one line each, `FILE:LINE:COL: key.path: message`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    col: int
    key: str  # dotted key path, empty for file-level problems
    message: str

    def __str__(self) -> str:
        where = f"{self.key}: " if self.key else ""
        return f"{self.file}:{self.line}:{self.col}: {where}{self.message}"


class ConfigError(Exception):
    """One or more problems in a config; str() is one line per problem."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
