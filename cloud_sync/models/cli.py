"""`edge-cloud keys ...` and `edge-cloud models ...`: generate keys, push a model, ask a device, roll it back.

The dispatcher registers these with `add_keys_commands(subparsers)` and `add_models_commands(subparsers)`; each
sub-command sets `func(args) -> int` (exit status: 0 done, 1 refused or no answer, 2 a usage mistake).
Run alone: ``python -m cloud_sync.models.cli models push ...``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from cloud_sync._args import host_port
from cloud_sync.config import MqttConfig
from cloud_sync.models.keys import generate_keys, key_id, load_private_key
from cloud_sync.models.links import CloudLink
from cloud_sync.models.manifest import DEFAULT_CHUNK, Manifest, Target, make_manifest, rollback_command, sign_manifest
from cloud_sync.models.pusher import ModelPusher

Command = Callable[[argparse.Namespace], int]


def add_keys_commands(subparsers: Any) -> None:
    keys = subparsers.add_parser("keys", help="Ed25519 signing keys for model pushes")
    sub = keys.add_subparsers(dest="keys_command", required=True)
    generate = sub.add_parser("generate", help="write STEM.key (private, 0600) and STEM.pub")
    generate.add_argument("stem", type=Path, help="e.g. keys/fleet")
    generate.set_defaults(func=_keys_generate)


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
    _link(push)
    push.set_defaults(func=_models_push)
    status = sub.add_parser("status", help="which model versions a device serves")
    status.add_argument("--device", required=True)
    _link(status)
    status.set_defaults(func=_models_status)
    rollback = sub.add_parser("rollback", help="tell a device to go back to its previous version (signed)")
    _target(rollback)
    rollback.add_argument("--name", required=True)
    rollback.add_argument("--key", type=Path, required=True)
    rollback.add_argument("--version", type=int, default=0, help="the version to go back to (default: previous)")
    _link(rollback)
    rollback.set_defaults(func=_models_rollback)


def _target(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group(required=True)
    group.add_argument("--device", help="a device id")
    group.add_argument("--group", help="a device group (group topic)")


def _link(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mqtt", default="127.0.0.1:1883", help="broker HOST:PORT (default 127.0.0.1:1883)")
    parser.add_argument("--zmq", help="bind a ZeroMQ ROUTER here instead of MQTT, e.g. tcp://*:5560")
    parser.add_argument("--curve-dir", type=Path, help="with --zmq: CURVE keys, server.key_secret and clients/*.key")
    parser.add_argument("--prefix", default="edge", help="topic prefix")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the devices")


def _keys_generate(args: argparse.Namespace) -> int:
    private, public = generate_keys(args.stem)
    print(f"wrote {private} and {public} (key id {key_id(load_private_key(private).public_key())})")
    return 0


def _models_push(args: argparse.Namespace) -> int:
    changes = json.loads(args.model_json) if args.model_json else None
    data = args.file.read_bytes()
    manifest = make_manifest(args.name, args.version, data, _target_of(args), chunk_size=args.chunk_size,
                             rollback=args.rollback, model=changes)  # fmt: skip
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

    return asyncio.run(_with_link(args, ask))


def _send(args: argparse.Namespace, manifest: Manifest, data: bytes, ok: set[str]) -> int:
    signed = sign_manifest(manifest, load_private_key(args.key))

    async def push(link: CloudLink) -> int:
        pusher = ModelPusher(link, on_status=_print_status)
        final = await pusher.push(signed, manifest, data, timeout=args.timeout, expect=getattr(args, "expect", None),
                                  watch=getattr(args, "watch", 0.0))  # fmt: skip
        if not final:
            print(f"{manifest.label}: no device answered within {args.timeout:g} s", file=sys.stderr)
        return 0 if final and all(s.get("state") in ok for s in final.values()) else 1

    return asyncio.run(_with_link(args, push))


def _print_status(status: dict[str, Any]) -> None:
    reason = f": {status['reason']}" if "reason" in status else ""
    print(f"{status.get('device')} {status.get('name')} v{status.get('version')}: {status.get('state')}{reason}")


def _target_of(args: argparse.Namespace) -> Target:
    return Target(group=args.group) if args.group else Target(devices=(args.device,))


async def _with_link(args: argparse.Namespace, work: Callable[[CloudLink], Awaitable[int]]) -> int:
    async with _cloud_link(args) as link:
        return await work(link)


@contextlib.asynccontextmanager
async def _cloud_link(args: argparse.Namespace) -> AsyncIterator[CloudLink]:
    if args.curve_dir and not args.zmq:
        raise SystemExit("edge-cloud: --curve-dir goes with --zmq (MQTT uses the broker's TLS)")
    if args.zmq:
        from cloud_sync.models.zmq import ZmqCloudLink

        link: Any = ZmqCloudLink(args.zmq, prefix=args.prefix, curve_dir=args.curve_dir)
        await asyncio.sleep(1.5)  # let devices connect and say hello
    else:
        from cloud_sync.models.mqtt import MqttCloudLink

        host, port = host_port(args.mqtt, default_host="127.0.0.1")
        link = MqttCloudLink(MqttConfig(host=host, port=port), prefix=args.prefix)
    task = asyncio.create_task(link.run(), name="models:cloud-link")
    try:
        if not args.zmq and not await link.wait_connected(10.0):
            raise SystemExit(f"edge-cloud: cannot reach the MQTT broker at {args.mqtt}: {link.last_error}")
        yield link
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def register(subparsers: Any) -> None:
    """`edge-cloud keys ...` and `edge-cloud models ...` (see cloud_sync.cli)."""
    add_keys_commands(subparsers)
    add_models_commands(subparsers)
