"""The signed manifest that opens a model push (or asks for a rollback).

On the wire a manifest is JSON ``{"key": <key id>, "manifest": <base64 of the manifest JSON bytes>,
"signature": <base64 Ed25519 signature of those bytes>}``: the signature covers the exact bytes, so no
canonical JSON is needed, and nothing in the manifest is read before the signature is checked.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
import time
from typing import Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cloud_sync.models.keys import TrustedKeys, key_id

NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")  # used with fullmatch: `$` would let "name\n" through
SHA256 = re.compile(r"[0-9a-f]{64}")
MIN_CHUNK = 1024
MAX_CHUNK = 1024 * 1024
DEFAULT_CHUNK = 64 * 1024
DEFAULT_EXPIRY_S = 7 * 86400.0  # how long a signed manifest stays acceptable (a rollout may take days)
KEYS_NAME = "trusted-keys"  # the `name` of a key update


class ManifestError(ValueError):
    """A manifest that must be refused; the text is the reason reported to the cloud."""


class Target(BaseModel):
    """Which devices a manifest is for: a list of device ids, or a group name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    devices: tuple[str, ...] = ()
    group: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Target:
        if bool(self.devices) == (self.group is not None):
            raise ValueError("target: give devices or a group")
        return self

    def includes(self, device: str, groups: tuple[str, ...]) -> bool:
        return device in self.devices if self.group is None else self.group in groups


class Manifest(BaseModel):
    """What a push delivers (``action: push``), which version to go back to (``action: rollback``), or which
    signing keys to trust from now on (``action: keys``, signed by a key the device trusts now)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal[1] = 1
    action: Literal["push", "rollback", "keys"] = "push"
    push_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="Random id of this push; chunks carry it.")
    name: str = Field(description="The model's name in the device config.")
    version: int = Field(ge=0, description="Version pushed; for action rollback, 0 means the previous version.")
    sha256: str = Field("", description="SHA-256 of the whole file (hex); empty for action rollback.")
    size: int = Field(0, ge=0, description="File size in bytes.")
    chunk_size: int = Field(DEFAULT_CHUNK, ge=MIN_CHUNK, le=MAX_CHUNK, description="Bytes per chunk.")
    created_at: float = Field(description="Unix time of signing; not after the last applied is refused.")
    target: Target
    rollback: bool = Field(False, description="Allow a version not newer than the active one.")
    model: dict[str, Any] | None = Field(None, description="Changes to the model's description (decoder, labels...).")
    expires_at: float | None = Field(None, description="Unix time after which devices refuse this manifest.")
    keys_add: tuple[str, ...] = Field((), description="Action keys: Ed25519 public keys (PEM) to trust.")
    keys_retire: tuple[str, ...] = Field((), description="Action keys: ids of keys to trust no more.")
    channel: str | None = Field(None, max_length=256, pattern=r"^[^#+\x00]+$",
                                description="A topic the listed devices join: the chunks come once on it.")

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        if self.action == "push":
            if not SHA256.fullmatch(self.sha256):
                raise ValueError("sha256 must be 64 lowercase hex digits")
            if self.version < 1:
                raise ValueError("version must be >= 1")
        if self.channel is not None and (self.action != "push" or self.target.group is not None):
            raise ValueError("a channel is for a push to listed devices (a group push uses the group topic)")
        if self.action == "keys" and not (self.keys_add or self.keys_retire):
            raise ValueError("a key update adds or retires at least one key")
        return self

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now > self.expires_at

    @property
    def chunks(self) -> int:
        return -(-self.size // self.chunk_size)

    def chunk_length(self, index: int) -> int:
        return min(self.chunk_size, self.size - index * self.chunk_size)

    @property
    def label(self) -> str:
        return f"{self.name} v{self.version}"


def new_push_id() -> str:
    return secrets.token_hex(16)


def sign_manifest(manifest: Manifest, private: Ed25519PrivateKey) -> bytes:
    """The manifest message body: JSON with the key id, the manifest bytes and their signature (base64)."""
    data = manifest.model_dump_json(exclude_defaults=False).encode()
    return json.dumps(
        {
            "key": key_id(private.public_key()),
            "manifest": base64.b64encode(data).decode(),
            "signature": base64.b64encode(private.sign(data)).decode(),
        }
    ).encode()


def verify_manifest(body: bytes, keys: TrustedKeys) -> Manifest:
    """Check the signature first, then parse; raises ManifestError with the reason to report."""
    try:
        outer = json.loads(body)
        kid, data, signature = outer["key"], base64.b64decode(outer["manifest"]), base64.b64decode(outer["signature"])
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, binascii.Error) as exc:
        raise ManifestError(f"malformed manifest message ({type(exc).__name__})") from None
    if not isinstance(kid, str) or kid not in keys:
        raise ManifestError(f"unknown key {str(kid)[:32]!r}")
    if not keys.verify(kid, signature, data):
        raise ManifestError(f"bad signature (key {kid})")
    return parse_manifest(data)


def claimed_push_id(body: bytes) -> str | None:
    """The push id a (possibly forged) manifest message claims, only to label the refusal; never trusted."""
    try:
        claimed = json.loads(base64.b64decode(json.loads(body)["manifest"])).get("push_id")
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
        return None
    return claimed if isinstance(claimed, str) and re.fullmatch(r"[0-9a-f]{32}", claimed) else None


def parse_manifest(data: bytes) -> Manifest:
    try:
        manifest = Manifest.model_validate_json(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "manifest"
        raise ManifestError(f"invalid manifest: {where}: {first['msg']}") from None
    if not NAME.fullmatch(manifest.name) or ".." in manifest.name:
        raise ManifestError(f"invalid model name {manifest.name[:64]!r} (letters, digits, _ . - only)")
    return manifest


def make_manifest(
    name: str,
    version: int,
    data: bytes,
    target: Target,
    *,
    chunk_size: int = DEFAULT_CHUNK,
    rollback: bool = False,
    model: dict[str, Any] | None = None,
    sha256: str | None = None,
    expires_in: float | None = DEFAULT_EXPIRY_S,
    channel_under: str | None = None,
) -> Manifest:
    """A push manifest for `data` (sha256 and size computed unless given), refused by devices after `expires_in`
    seconds; with `channel_under`, the listed devices join the topic ``<channel_under>/<push id>`` for the chunks."""
    now = time.time()
    push_id = new_push_id()
    return Manifest(
        push_id=push_id,
        name=name,
        version=version,
        sha256=sha256 or hashlib.sha256(data).hexdigest(),
        size=len(data),
        chunk_size=chunk_size,
        created_at=now,
        target=target,
        rollback=rollback,
        model=model,
        expires_at=None if expires_in is None else now + expires_in,
        channel=None if channel_under is None else f"{channel_under}/{push_id}",
    )


def rollback_command(name: str, target: Target, version: int = 0, expires_in: float = DEFAULT_EXPIRY_S) -> Manifest:
    """A signed request to go back to `version` (0: the previous one) without sending a file."""
    now = time.time()
    return Manifest(action="rollback", push_id=new_push_id(), name=name, version=version, created_at=now,
                    target=target, expires_at=now + expires_in)


def key_update(add: tuple[str, ...], retire: tuple[str, ...], target: Target,
               expires_in: float = DEFAULT_EXPIRY_S) -> Manifest:
    """A signed key update: trust the keys `add` (PEM) from now on, and the key ids `retire` no more."""
    now = time.time()
    return Manifest(action="keys", push_id=new_push_id(), name=KEYS_NAME, version=0, created_at=now, target=target,
                    expires_at=now + expires_in, keys_add=add, keys_retire=retire)
