"""Hostile config texts shared by the reproducer tests and the fuzz test."""

from __future__ import annotations

import re

from tests.config.test_validate import GOOD, MODEL

LINE = re.compile(r"^(?P<file>[^\n]+?):(?P<line>\d+):(?P<col>\d+): ")


def nested(depth: int, mapping: bool) -> str:
    return "{a: " * depth + "1" + "}" * depth if mapping else "[" * depth + "]" * depth


def alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The "billion laughs": each level a list of `width` aliases of the level below."""
    lines = ["lol0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"lol{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def with_cloud(section: str) -> str:
    return GOOD + "cloud:\n" + section


__all__ = ["GOOD", "LINE", "MODEL", "alias_bomb", "nested", "with_cloud"]
