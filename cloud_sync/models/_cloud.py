"""The cloud end of the model link for the `edge-cloud` commands: MQTT, or the ZeroMQ model relay of
`edge-cloud listen --relay-bind`; its options."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from cloud_sync._args import host_port
from cloud_sync.config import MqttConfig
from cloud_sync.models.links import CloudLink


def cloud_link_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mqtt", default="127.0.0.1:1883", help="broker HOST:PORT (default 127.0.0.1:1883)")
    parser.add_argument("--zmq", help="instead of MQTT: the model relay of `edge-cloud listen --relay-bind`, "
                        "e.g. tcp://cloud:5560")
    parser.add_argument("--curve-key", type=Path, help="with --zmq: this pusher's CURVE secret key (.key_secret)")
    parser.add_argument("--curve-server-key", type=Path, help="with --zmq: the listener's CURVE public key")
    parser.add_argument("--prefix", default="edge", help="topic prefix")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the devices")


async def with_link(args: argparse.Namespace, work: Callable[[CloudLink], Awaitable[int]]) -> int:
    async with cloud_link(args) as link:
        return await work(link)


@contextlib.asynccontextmanager
async def cloud_link(args: argparse.Namespace) -> AsyncIterator[CloudLink]:
    if args.zmq:
        link: Any = await _zmq_link(args)
    else:
        from cloud_sync.models.mqtt import MqttCloudLink

        if args.curve_key or args.curve_server_key:
            raise SystemExit("edge-cloud: --curve-key and --curve-server-key go with --zmq (MQTT uses broker TLS)")
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


async def _zmq_link(args: argparse.Namespace) -> Any:
    from cloud_sync.config import CurveConfig
    from cloud_sync.models.zmq import ZmqCloudLink

    if bool(args.curve_key) != bool(args.curve_server_key):
        raise SystemExit("edge-cloud: CURVE needs both --curve-key and --curve-server-key")
    curve = CurveConfig(client_key=args.curve_key, server_key=args.curve_server_key) if args.curve_key else None
    link = ZmqCloudLink(args.zmq, prefix=args.prefix, curve=curve)
    await asyncio.sleep(0.5)  # let the relay learn this pusher (its hello) before the first push
    return link
