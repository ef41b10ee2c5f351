"""Python 3.10 support: the one TaskGroup shim lives in cloud_sync (which must not import edge_runtime)."""

from __future__ import annotations

from cloud_sync._compat import TaskGroup

__all__ = ["TaskGroup"]
