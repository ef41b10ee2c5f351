"""Signed, chunked, resumable model pushes: keys, manifest, wire protocol, device store and receiver, cloud pusher.

Nothing here imports the runtime: what happens once a file is staged (load check, canary, swap) is done by an
`Installer` that the runtime provides. The signing, the receiver, the inbox and the pusher (and with them
cryptography) are imported when first used (`cloud_sync._lazy`): a config's `cloud.models` section is only a
pydantic model, and a device without model updates never loads them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cloud_sync.models.config import CanaryConfig, HealthConfig, ModelUpdatesConfig
from cloud_sync.models.links import CloudLink, DeviceLink, MemoryCloudLink, MemoryDeviceLink, MemoryHub
from cloud_sync.models.store import ModelStore, StoredModel
from cloud_sync.models.wire import (
    FINAL_STATES,
    NEED,
    PUSH,
    STATES,
    STATUS,
    chunk_message,
    group_topic,
    manifest_message,
)

if TYPE_CHECKING:
    from cloud_sync.models.inbox import Installer, ModelInbox, Report
    from cloud_sync.models.keys import (
        KeyFileError,
        TrustedKeys,
        generate_keys,
        key_id,
        load_private_key,
        load_public_key,
    )
    from cloud_sync.models.manifest import (
        Manifest,
        ManifestError,
        Target,
        make_manifest,
        rollback_command,
        sign_manifest,
        verify_manifest,
    )
    from cloud_sync.models.pusher import ModelPusher
    from cloud_sync.models.receiver import Assembled, ModelReceiver, Rollback, Send
else:
    from cloud_sync._lazy import lazy_exports

    _MODULES = {
        "cloud_sync.models.inbox": ("Installer", "ModelInbox", "Report"),
        "cloud_sync.models.keys": (
            "KeyFileError", "TrustedKeys", "generate_keys", "key_id", "load_private_key", "load_public_key",
        ),
        "cloud_sync.models.manifest": (
            "Manifest", "ManifestError", "Target", "make_manifest", "rollback_command", "sign_manifest",
            "verify_manifest",
        ),
        "cloud_sync.models.pusher": ("ModelPusher",),
        "cloud_sync.models.receiver": ("Assembled", "ModelReceiver", "Rollback", "Send"),
    }
    __getattr__ = lazy_exports(__name__, {name: module for module, names in _MODULES.items() for name in names})

__all__ = [
    "FINAL_STATES",
    "NEED",
    "PUSH",
    "STATES",
    "STATUS",
    "Assembled",
    "CanaryConfig",
    "CloudLink",
    "DeviceLink",
    "HealthConfig",
    "Installer",
    "KeyFileError",
    "Manifest",
    "ManifestError",
    "MemoryCloudLink",
    "MemoryDeviceLink",
    "MemoryHub",
    "ModelInbox",
    "ModelPusher",
    "ModelReceiver",
    "ModelStore",
    "ModelUpdatesConfig",
    "Report",
    "Rollback",
    "Send",
    "StoredModel",
    "Target",
    "TrustedKeys",
    "chunk_message",
    "generate_keys",
    "group_topic",
    "key_id",
    "load_private_key",
    "load_public_key",
    "make_manifest",
    "manifest_message",
    "rollback_command",
    "sign_manifest",
    "verify_manifest",
]
