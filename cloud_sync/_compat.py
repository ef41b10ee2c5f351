"""Python 3.10 support, in one place: TaskGroup comes from the `taskgroup` backport there."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    from asyncio import TaskGroup
else:  # pragma: no cover
    from taskgroup import TaskGroup

__all__ = ["TaskGroup"]
