"""The accelerator service and its queue policies: which frame runs on which lane, when, or why not.

`AcceleratorService` owns the lanes (interpreter threads) and resolves every submitted `Job` with `Completed`
or `Dropped`; a free lane takes its next job itself, under one lock shared with the loop (`_dispatch.py`).
The policies are pure and driven with an explicit clock: `PriorityPolicy` (class, then earliest
deadline, supersede, stale drops, reserves, min_share / max_wait guards) and `FifoPolicy` (the baseline).
"""

from __future__ import annotations

from edge_runtime.scheduler._fifo import FifoPolicy
from edge_runtime.scheduler._policy import PriorityPolicy
from edge_runtime.scheduler._service import STOP_TIMEOUT_S, AcceleratorService, lane_limits
from edge_runtime.scheduler._tickets import LOWEST_RANK, Drop, QueuePolicy, StreamRule, Ticket

__all__ = [
    "LOWEST_RANK",
    "STOP_TIMEOUT_S",
    "AcceleratorService",
    "Drop",
    "FifoPolicy",
    "PriorityPolicy",
    "QueuePolicy",
    "StreamRule",
    "Ticket",
    "lane_limits",
]
