"""The cloud end of the model link for the `edge-cloud` commands: MQTT (or a bound ZeroMQ ROUTER), its options."""

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
    parser.add_argument("--zmq", help="bind a ZeroMQ ROUTER here instead of MQTT, e.g. tcp://*:5560")
    parser.add_argument("--curve-dir", type=Path, help="with --zmq: CURVE keys, server.key_secret and clients/*.key")
    parser.add_argument("--prefix", default="edge", help="topic prefix")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for the devices")


async def with_link(args: argparse.Namespace, work: Callable[[CloudLink], Awaitable[int]]) -> int:
    async with cloud_link(args) as link:
        return await work(link)


@contextlib.asynccontextmanager
async def cloud_link(args: argparse.Namespace) -> AsyncIterator[CloudLink]:
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
