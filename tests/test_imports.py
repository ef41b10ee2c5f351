"""Every module of the project imports first, on its own: no loop hides behind a package's `__init__`.

`import_cycles.py` reads import statements; this runs them. Importing `edge_runtime.config._x` runs
`edge_runtime/config/__init__.py` first, which imports every section; a section that reaches back into
`edge_runtime.config` then fails at import time with "partially initialized module". One child process imports
each module with the project's modules forgotten before each, so every module gets its turn to be first.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
import importlib, sys
from pathlib import Path
failed = []
for package in ("edge_runtime", "cloud_sync"):
    for path in sorted(Path(package).rglob("*.py")):
        parts = list(path.with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        if parts[-1] == "__main__":
            continue
        for loaded in [m for m in sys.modules if m.split(".")[0] in ("edge_runtime", "cloud_sync")]:
            del sys.modules[loaded]
        try:
            importlib.import_module(".".join(parts))
        except ImportError as exc:
            failed.append(f"{'.'.join(parts)}: {exc}")
print("\\n".join(failed) or "ok")
"""


def test_every_module_imports_first_on_its_own() -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHILD], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok", result.stdout
