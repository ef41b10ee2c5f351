"""`edge-cloud keys ...` and `edge-cloud models ...`: generate keys, push a model, ask a device, roll it back.

The dispatcher registers these with `add_keys_commands(subparsers)` and `add_models_commands(subparsers)`; each
sub-command sets `func(args) -> int` (exit status: 0 done, 1 refused or no answer, 2 a usage mistake).
Run alone: ``python -m cloud_sync.models.cli models push ...``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cloud_sync.fleet.rollout_cli import add_rollout_command
from cloud_sync.models._cloud import cloud_link_arguments, with_link
from cloud_sync.models.keys import generate_keys, key_id, load_private_key, load_public_key, public_pem
from cloud_sync.models.links import CloudLink
from cloud_sync.models.manifest import (
    DEFAULT_CHUNK,
    DEFAULT_EXPIRY_S,
    Manifest,
    Target,
    key_update,
    make_manifest,
    rollback_command,
    sign_manifest,
)
from cloud_sync.models.pusher import ModelPusher

Command = Callable[[argparse.Namespace], int]


def add_keys_commands(subparsers: Any) -> None:
    keys = subparsers.add_parser("keys", help="Ed25519 signing keys for model pushes")
    sub = keys.add_subparsers(dest="keys_command", required=True)
    generate = sub.add_parser("generate", help="write STEM.key (private, 0600) and STEM.pub")
    generate.add_argument("stem", type=Path, help="e.g. keys/fleet")
    generate.set_defaults(func=_keys_generate)
    rotate = sub.add_parser("rotate", help="signed key update: trust new keys, retire old ones, fleet-wide")
    _target(rotate)
    rotate.add_argument("--key", type=Path, required=True, help="private key the devices trust now (signs it)")
    rotate.add_argument("--add", type=Path, action="append", default=[], help="public key to trust (repeatable)")
    rotate.add_argument("--retire", action="append", default=[],
                        help="key id, or public key file, to trust no more (repeatable)")
    cloud_link_arguments(rotate)
    rotate.set_defaults(func=_keys_rotate)


def add_models_commands(subparsers: Any) -> None:
    models = subparsers.add_parser("models", help="push models to devices, ask them, roll them back")
    sub = models.add_subparsers(dest="models_command", required=True)
    push = sub.add_parser("push", help="push a signed model version to a device or a group")
    _target(push)
    push.add_argument("file", type=Path, help="the .tflite file")
    push.add_argument("--name", required=True, help="the model's name in the device config")
    push.add_argument("--version", type=int, required=True, help="the new version (must be newer, unless --rollback)")
    push.add_argument("--key", type=Path, required=True, help="private key (keys generate)")
    push.add_argument("--chunk-size", type=int, default=DEFAULT_CHUNK, help="bytes per chunk")
    push.add_argument("--rollback", action="store_true", help="allow a version not newer than the active one")
    push.add_argument("--model-json", help="changes to the model description, as JSON (decoder, labels, ...)")
    push.add_argument("--expect", type=int, help="group push: end when this many devices are done")
    push.add_argument("--watch", type=float, default=0.0, help="seconds to keep listening for a rollback")
    push.add_argument("--expires-in", type=float, default=DEFAULT_EXPIRY_S,
                      help="seconds after which devices refuse this push (default 7 days)")
    cloud_link_arguments(push)
    push.set_defaults(func=_models_push)
    status = sub.add_parser("status", help="which model versions a device serves")
    status.add_argument("--device", required=True)
    cloud_link_arguments(status)
    status.set_defaults(func=_models_status)
    rollback = sub.add_parser("rollback", help="tell a device to go back to its previous version (signed)")
    _target(rollback)
    rollback.add_argument("--name", required=True)
    rollback.add_argument("--key", type=Path, required=True)
    rollback.add_argument("--version", type=int, default=0, help="the version to go back to (default: previous)")
    cloud_link_arguments(rollback)
    rollback.set_defaults(func=_models_rollback)
    add_rollout_command(sub)


def _target(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--device", help="a device id")
    group.add_argument("--group", help="a device group (group topic)")


def _keys_generate(args: argparse.Namespace) -> int:
    private, public = generate_keys(args.stem)
    print(f"wrote {private} and {public} (key id {key_id(load_private_key(private).public_key())})")
    return 0


def _keys_rotate(args: argparse.Namespace) -> int:
    add = tuple(public_pem(load_public_key(path)) for path in args.add)
    retire = tuple(key_id(load_public_key(Path(r))) if Path(r).is_file() else r for r in args.retire)
    return _send(args, key_update(add, retire, _target_of(args)), b"", ok={"active"})


def _models_push(args: argparse.Namespace) -> int:
    changes = json.loads(args.model_json) if args.model_json else None
    data = args.file.read_bytes()
    manifest = make_manifest(args.name, args.version, data, _target_of(args), chunk_size=args.chunk_size,
                             rollback=args.rollback, model=changes, expires_in=args.expires_in)  # fmt: skip
    return _send(args, manifest, data, ok={"active"})


def _models_rollback(args: argparse.Namespace) -> int:
    return _send(args, rollback_command(args.name, _target_of(args), args.version), b"", ok={"rolled_back"})


def _models_status(args: argparse.Namespace) -> int:
    async def ask(link: CloudLink) -> int:
        answer = await ModelPusher(link).query(args.device, timeout=min(args.timeout, 10.0))
        if answer is None:
            print(f"{args.device}: no answer", file=sys.stderr)
            return 1
        for name, model in sorted(answer.get("models", {}).items()):
            print(f"{args.device} {name}: v{model['version']} {model['sha256'][:12]} (previous: v{model['previous']})")
        return 0

    return asyncio.run(with_link(args, ask))


def _send(args: argparse.Namespace, manifest: Manifest, data: bytes, ok: set[str]) -> int:
    signed = sign_manifest(manifest, load_private_key(args.key))

    async def push(link: CloudLink) -> int:
        pusher = ModelPusher(link, on_status=_print_status)
        final = await pusher.push(signed, manifest, data, timeout=args.timeout, expect=getattr(args, "expect", None),
                                  watch=getattr(args, "watch", 0.0))  # fmt: skip
        if not final:
            print(f"{manifest.label}: no device answered within {args.timeout:g} s", file=sys.stderr)
        return 0 if final and all(s.get("state") in ok for s in final.values()) else 1

    return asyncio.run(with_link(args, push))


def _print_status(status: dict[str, Any]) -> None:
    reason = f": {status['reason']}" if "reason" in status else ""
    print(f"{status.get('device')} {status.get('name')} v{status.get('version')}: {status.get('state')}{reason}")


def _target_of(args: argparse.Namespace) -> Target:
    return Target(group=args.group) if args.group else Target(devices=(args.device,))


def register(subparsers: Any) -> None:
    """`edge-cloud keys ...` and `edge-cloud models ...` (see cloud_sync.cli)."""
    add_keys_commands(subparsers)
    add_models_commands(subparsers)
