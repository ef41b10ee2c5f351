"""Lazy re-exports (PEP 562): a package's heavy public names are imported from their module on first use.

A device that has no `cloud:` section, or one that speaks MQTT only, must not pay at start for the libraries of
the parts it does not run (paho and ssl, pyzmq, sqlite3, cryptography: tens of MiB on a Raspberry Pi). A package
lists such names with the module that defines them; mypy sees them through ``if TYPE_CHECKING:`` imports.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping


def lazy_exports(package: str, names: Mapping[str, str]) -> Callable[[str], object]:
    """The package's module-level ``__getattr__``: `names` maps each public name to the module defining it."""

    def __getattr__(name: str) -> object:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(sys.modules[package], name, value)  # found once: later uses are plain attribute reads
        return value

    return __getattr__
