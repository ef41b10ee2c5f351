"""Print module and function sizes (lines) of the project's packages: median and maximum, read with `ast`.

Usage: python3 tools/code_sizes.py [PACKAGE_DIR ...]   (default: edge_runtime cloud_sync)
"""

from __future__ import annotations

import ast
import statistics
import sys
from pathlib import Path


def sizes(roots: list[Path]) -> tuple[dict[str, int], dict[str, int]]:
    modules: dict[str, int] = {}
    functions: dict[str, int] = {}
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            modules[str(path)] = len(text.splitlines())
            for node in ast.walk(ast.parse(text, str(path))):
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    end = node.end_lineno or node.lineno
                    functions[f"{path}:{node.lineno} {node.name}"] = end - node.lineno + 1
    return modules, functions


def line(what: str, table: dict[str, int]) -> str:
    biggest = max(table, key=table.__getitem__)
    return (f"{what}: {len(table)}, median {statistics.median(table.values()):.0f} lines, "
            f"max {table[biggest]} ({biggest})")  # fmt: skip


def main() -> None:
    roots = [Path(a) for a in sys.argv[1:]] or [Path("edge_runtime"), Path("cloud_sync")]
    modules, functions = sizes(roots)
    print(line("modules", modules))
    print(line("functions", functions))


if __name__ == "__main__":
    main()
