"""`edge-cloud models rollout`: a staged rollout to a group (see cloud_sync.fleet.rollout)."""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import sys
from pathlib import Path
from typing import Any

from cloud_sync.fleet._plan import RolloutSpec, parse_waves
from cloud_sync.fleet.rollout import RolloutRunner
from cloud_sync.ingest import open_store
from cloud_sync.ingest.cli import add_db_argument
from cloud_sync.models._cloud import cloud_link_arguments, with_link
from cloud_sync.models.keys import load_private_key
from cloud_sync.models.links import CloudLink


def add_rollout_command(sub: Any) -> None:
    p = sub.add_parser("rollout", help="roll a model version out to a group in waves (resumable)")
    p.add_argument("file", type=Path, help="the .tflite file")
    p.add_argument("--group", required=True, help="the devices of this group in the registry")
    p.add_argument("--name", required=True, help="the model's name in the device config")
    p.add_argument("--version", type=int, required=True, help="the new version")
    p.add_argument("--key", type=Path, required=True, help="private key (keys generate)")
    p.add_argument("--waves", default="1%,10%,50%,100%", help="cumulative shares of the group (default 1%%,10%%,"
                   "50%%,100%%)")
    p.add_argument("--success", type=float, default=0.95, help="share of a wave active before the next (0.95)")
    p.add_argument("--abort-on-failure", type=float, default=0.05, help="share of a wave failed that stops it")
    p.add_argument("--wave-timeout", type=float, default=300.0, help="seconds a wave may take (default 300)")
    p.add_argument("--rollback-on-abort", action="store_true", help="roll back the devices that took it")
    p.add_argument("--await-offline", type=float, help="after the last wave, seconds to wait for offline devices "
                   "to come back and take the version (default: --wave-timeout)")
    add_db_argument(p)
    cloud_link_arguments(p)
    p.set_defaults(func=_rollout)


def _rollout(args: argparse.Namespace) -> int:
    if not 0 < args.success <= 1 or not 0 <= args.abort_on_failure < 1 or args.wave_timeout <= 0:
        raise ValueError("--success must be in (0, 1], --abort-on-failure in [0, 1), --wave-timeout > 0")
    data = args.file.read_bytes()
    key = load_private_key(args.key)
    spec = RolloutSpec(args.group, args.name, args.version, hashlib.sha256(data).hexdigest(),
                       tuple(parse_waves(args.waves)), args.success, args.abort_on_failure, args.wave_timeout,
                       args.rollback_on_abort,
                       args.wave_timeout if args.await_offline is None else max(args.await_offline, 0.0))
    store = open_store(args.db, create=False)

    async def work(link: CloudLink) -> int:
        outcome = await RolloutRunner(link, store, spec, data, key, progress=_say).run()
        _say(f"rollout {outcome.state}{': ' + outcome.reason if outcome.reason else ''} ({outcome.active} active, "
             f"{outcome.failed} rejected, {outcome.rolled_back} rolled back)")
        return 0 if outcome.state == "done" else 1

    try:
        return asyncio.run(with_link(args, work))
    finally:
        store.close()


def _say(line: str) -> None:
    print(line, file=sys.stdout, flush=True)
