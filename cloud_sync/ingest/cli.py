"""`edge-cloud ingest`: results, events, stats, status and model status from the broker into SQLite or
PostgreSQL; run several with the same --group to split the fleet's traffic."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from cloud_sync._args import host_port
from cloud_sync._until import until_stopped
from cloud_sync.config import TlsConfig
from cloud_sync.ingest._rows import MAX_BYTES
from cloud_sync.ingest._store import open_store
from cloud_sync.ingest._worker import SharedSource, Totals, ingest
from cloud_sync.listen_sources import MqttOptions

NAME = "ingest"
DEFAULT_DB = "var/ingest.db"


def add_db_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=DEFAULT_DB,
                   help=f"SQLite file or postgresql://USER@HOST/DB URL (default {DEFAULT_DB})")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(NAME, help="store device messages in SQLite or PostgreSQL", description=__doc__)
    p.add_argument("--mqtt", metavar="HOST:PORT", required=True, help="the broker (or one node of the cluster)")
    add_db_argument(p)
    p.add_argument("--group", default="edge-ingest", help="shared-subscription group (default edge-ingest)")
    p.add_argument("--client-id", default="edge-cloud-ingest",
                   help="MQTT client id of this worker's persistent session: one per worker, kept across restarts")
    p.add_argument("--prefix", default="edge", help="topic prefix (default edge)")
    p.add_argument("--max-bytes", type=int, default=MAX_BYTES, help=f"larger messages are rejected ({MAX_BYTES})")
    p.add_argument("--ca", type=Path, help="MQTT TLS: CA that signed the broker's certificate")
    p.add_argument("--cert", type=Path, help="MQTT TLS: client certificate")
    p.add_argument("--key", type=Path, help="MQTT TLS: client private key")
    p.add_argument("--username", help="MQTT user name")
    p.add_argument("--password", help="MQTT password")
    p.add_argument("--duration", type=float, help="stop after this many seconds")
    p.set_defaults(func=main)


def main(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


def _source(args: argparse.Namespace) -> SharedSource:
    host, port = host_port(args.mqtt)
    tls = TlsConfig(ca=args.ca, cert=args.cert, key=args.key) if args.ca or args.cert else None
    options = MqttOptions(host, port, args.prefix, 1, args.client_id, tls, args.username, args.password)
    return SharedSource(options, args.group, lambda text: print(f"edge-cloud ingest: {text}", file=sys.stderr,
                                                                 flush=True))


async def _run(args: argparse.Namespace) -> int:
    source = _source(args)
    store = await asyncio.to_thread(open_store, args.db)
    totals = Totals()
    try:
        await until_stopped(ingest(source, store, totals, args.max_bytes), args.duration, "ingest")
    finally:
        store.close()
        print(f"edge-cloud ingest: {totals.line()}", file=sys.stderr, flush=True)
    return 0
