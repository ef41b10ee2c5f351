"""`edge-cloud fleet`: the registry of devices the ingest database knows."""

from __future__ import annotations

import argparse
import json

from cloud_sync import fleet_bench
from cloud_sync.fleet import simulate
from cloud_sync.fleet.registry import assign, devices, table
from cloud_sync.ingest import open_store
from cloud_sync.ingest.cli import add_db_argument

NAME = "fleet"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(NAME, help="the fleet registry", description=__doc__)
    sub = p.add_subparsers(dest="fleet_command", metavar="ACTION", required=True)
    status = sub.add_parser("status", help="every device: online, last seen, boot, models, outbox, drops")
    add_db_argument(status)
    status.add_argument("--group", help="only the devices of this group")
    status.add_argument("--json", action="store_true", help="print JSON instead of a table")
    status.set_defaults(func=_status)
    group = sub.add_parser("assign", help="put devices in a group")
    add_db_argument(group)
    group.add_argument("--group", required=True)
    group.add_argument("devices", nargs="+", metavar="DEVICE")
    group.set_defaults(func=_assign)
    simulate.register(sub)
    _register_bench(sub)


def _register_bench(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`edge-cloud fleet bench`: the same benchmark as `python -m cloud_sync.fleet_bench`."""
    p = sub.add_parser("bench", help="the fleet benchmark: rollout and ingest figures on a local mosquitto",
                       description=fleet_bench.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    fleet_bench.add_arguments(p)
    p.set_defaults(func=fleet_bench.bench)


def _status(args: argparse.Namespace) -> int:
    store = open_store(args.db, create=False)
    try:
        fleet = devices(store, args.group)
    finally:
        store.close()
    if args.json:
        print(json.dumps([d.as_dict() for d in fleet], indent=2))
    else:
        print("\n".join(table(fleet)))
    return 0


def _assign(args: argparse.Namespace) -> int:
    store = open_store(args.db)
    try:
        assign(store, args.group, args.devices)
    finally:
        store.close()
    return 0
