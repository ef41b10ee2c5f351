"""Trusted keys over time: a signed key update (manifest ``action: keys``) adds or retires signing keys.

The update is verified like any manifest, by a key the device trusts now; it is refused when it is expired, not
newer than the last update applied (a replay), for another device, malformed, or when it would leave no trusted
key. The resulting key set is written to ``<model store>/trusted_keys.json`` (atomically) and applied again at
every start over the configured keys, so a key retired fleet-wide stays retired.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cloud_sync.models.keys import TrustedKeys, key_id, parse_public_pem, public_pem
from cloud_sync.models.manifest import Manifest, ManifestError

KEYS_FILE = "trusted_keys.json"


def _read(root: Path) -> dict[str, Any]:
    try:
        body = json.loads((root / KEYS_FILE).read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise ManifestError(f"{root / KEYS_FILE}: unreadable ({exc})") from None
    return body if isinstance(body, dict) else {}


def restore(keys: TrustedKeys, root: Path) -> None:
    """Apply the saved key set (if an update was ever applied) over the configured keys."""
    body = _read(root)
    if body.get("keys"):
        keys.replace(parse_public_pem(pem) for pem in body["keys"])


def apply(keys: TrustedKeys, manifest: Manifest, root: Path) -> str:
    """Apply a verified key update to `keys` and save it; returns a one-line summary. ManifestError if refused."""
    if manifest.created_at <= float(_read(root).get("updated_at", 0.0)):
        raise ManifestError("key update older than the last one applied (replayed?)")
    try:
        added = [parse_public_pem(pem) for pem in manifest.keys_add]
    except ValueError as exc:
        raise ManifestError(f"key update: {exc}") from None
    retired = set(manifest.keys_retire)
    kept = {key_id(k): k for k in [*keys.keys(), *added] if key_id(k) not in retired}
    if not kept:
        raise ManifestError("key update would leave no trusted key")
    body = {"updated_at": manifest.created_at, "keys": [public_pem(k) for _, k in sorted(kept.items())]}
    root.mkdir(parents=True, exist_ok=True)
    temp = root / (KEYS_FILE + ".tmp")
    temp.write_text(json.dumps(body, indent=1))
    os.replace(temp, root / KEYS_FILE)
    keys.replace(kept.values())
    return f"trusted keys now {', '.join(sorted(kept))}"
