"""`edge-cloud listen`: receive envelopes over MQTT or ZeroMQ, de-duplicate, store as JSONL, report."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from pathlib import Path
from typing import IO

from cloud_sync._args import host_port
from cloud_sync._until import until_stopped
from cloud_sync.config import TlsConfig
from cloud_sync.envelope import EnvelopeError, decode
from cloud_sync.listen_sources import MqttOptions, MqttSource, Received, ZmqSource
from cloud_sync.tally import Tally

NAME = "listen"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(NAME, help="receive results from devices", description=__doc__)
    link = p.add_mutually_exclusive_group(required=True)
    link.add_argument("--mqtt", metavar="HOST:PORT", help="subscribe on this MQTT broker")
    link.add_argument("--zmq-bind", metavar="ENDPOINT", help="bind a ZeroMQ ROUTER, e.g. tcp://0.0.0.0:5555")
    p.add_argument("--relay-bind", metavar="ENDPOINT",
                   help="with --zmq-bind: bind the model relay here; `edge-cloud models ... --zmq ENDPOINT` pushes "
                   "through it on the devices' one connection")
    p.add_argument("--curve-dir", type=Path, help="ZeroMQ CURVE keys: server.key_secret and clients/*.key")
    p.add_argument("--ca", type=Path, help="MQTT TLS: CA that signed the broker's certificate")
    p.add_argument("--cert", type=Path, help="MQTT TLS: client certificate")
    p.add_argument("--key", type=Path, help="MQTT TLS: client private key")
    p.add_argument("--username", help="MQTT user name")
    p.add_argument("--password", help="MQTT password")
    p.add_argument("--client-id", default="edge-cloud-listen", help="MQTT client id of the persistent session")
    p.add_argument("--prefix", default="edge", help="topic prefix (default edge)")
    p.add_argument("--qos", type=int, choices=(0, 1, 2), default=1, help="subscription QoS (default 1)")
    p.add_argument("--out", type=Path, help="append new envelopes to this JSONL file (else print them)")
    p.add_argument("--report", type=Path, help="write the per-device, per-stream report here as JSON on exit")
    p.add_argument("--duration", type=float, help="stop after this many seconds")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    return asyncio.run(_listen(args))


def _source(args: argparse.Namespace) -> MqttSource | ZmqSource:
    def ready(text: str) -> None:
        print(f"edge-cloud listen: {text}", file=sys.stderr, flush=True)

    if args.relay_bind and not args.zmq_bind:
        raise SystemExit("edge-cloud listen: --relay-bind goes with --zmq-bind (over MQTT, pushes use the broker)")
    if args.zmq_bind:
        return ZmqSource(args.zmq_bind, ready, args.curve_dir, relay_bind=args.relay_bind, prefix=args.prefix)
    host, port = host_port(args.mqtt)
    tls = TlsConfig(ca=args.ca, cert=args.cert, key=args.key) if args.ca or args.cert else None
    options = MqttOptions(host, port, args.prefix, args.qos, args.client_id, tls, args.username, args.password)
    return MqttSource(options, ready)


def _open_out(path: Path | None, tally: Tally) -> IO[bytes]:
    """The output: stdout, or the file appended to, after remembering the keys already in it."""
    if path is None:
        return sys.stdout.buffer
    if path.exists():
        data = path.read_bytes()
        for line in data.splitlines():
            with contextlib.suppress(EnvelopeError):
                tally.seed(decode(line))
        out = path.open("ab")
        if data and not data.endswith(b"\n"):
            out.write(b"\n")  # a line cut short by a kill: it was never acked, so it comes again
        return out
    path.parent.mkdir(parents=True, exist_ok=True)
    return path.open("ab")


def _store(batch: list[Received], tally: Tally, out: IO[bytes]) -> None:
    lines = []
    for item in batch:
        if item.topic.endswith("/status") and not item.payload.startswith(b"{"):
            tally.status[item.topic.split("/")[-2]] = item.payload.decode(errors="replace")
            continue
        try:
            envelope = decode(item.payload)
        except EnvelopeError:
            tally.invalid += 1
            continue
        if tally.add(envelope):
            lines.append(item.payload)
    if lines:
        out.write(b"\n".join(lines) + b"\n")
        out.flush()


async def _consume(source: MqttSource | ZmqSource, tally: Tally, out: IO[bytes]) -> None:
    async for batch in source.batches():
        _store(batch, tally, out)
        await source.ack()


async def _listen(args: argparse.Namespace) -> int:
    tally = Tally()
    source = _source(args)
    out = _open_out(args.out, tally)
    failed = False
    try:
        await until_stopped(_consume(source, tally, out), args.duration, "listen-consume")
    except Exception:
        failed = True
        raise
    finally:
        if out is not sys.stdout.buffer:
            out.close()
        _finish(tally, args.report, summary=not (failed and tally.empty))
    return 0


def _finish(tally: Tally, report: Path | None, summary: bool = True) -> None:
    """The summary on stderr (left out when the listener failed before receiving anything) and the report."""
    if summary:
        print("\n".join(tally.summary()), file=sys.stderr, flush=True)
    if report is not None:
        report.parent.mkdir(parents=True, exist_ok=True)
        report.write_text(json.dumps(tally.report(), indent=2) + "\n")
