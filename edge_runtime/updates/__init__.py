"""Model updates on the device: signed pushes checked, canaried, swapped in service, watched, rolled back.

The protocol, the store and the receiver live in `cloud_sync.models`; this package adds what needs the runtime.
`ModelUpdater` (and with it the receiver and cryptography) is imported when first used: a runtime without
`cloud.models` only restores and loads its configured models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from edge_runtime.updates._checks import CanaryResult, UpdateRejected, canary, config_for, load_checked
from edge_runtime.updates._frames import RecentFrames
from edge_runtime.updates._health import Health, HealthMonitor, WatchedHandle, WatchedRunner
from edge_runtime.updates._history import UpdateHistory
from edge_runtime.updates._restore import load_models

if TYPE_CHECKING:
    from edge_runtime.updates._updater import ModelUpdater
else:
    from cloud_sync._lazy import lazy_exports

    __getattr__ = lazy_exports(__name__, {"ModelUpdater": "edge_runtime.updates._updater"})

__all__ = [
    "CanaryResult",
    "Health",
    "HealthMonitor",
    "ModelUpdater",
    "RecentFrames",
    "UpdateHistory",
    "UpdateRejected",
    "WatchedHandle",
    "WatchedRunner",
    "canary",
    "config_for",
    "load_checked",
    "load_models",
]
