"""The fleet benchmark: `python -m cloud_sync.fleet_bench [--devices 1000] [--seconds 60] [--json FILE]`.

On one local mosquitto that it starts (file-descriptor limits raised), with simulated devices (real uplink and
model receiver, fake interpreter):

* rollout: a `--model-mb` model to every device in waves 1%,10%,50%,100% (each device pulls it), then the same
  size pushed to the whole group at once (each chunk once on the group topic): time to all `active`, the bytes the
  broker received and sent against devices x model size, chunks sent beyond one copy per device (re-asked);
* ingest: every device publishing `--rate` results/s for `--seconds` into 2 `edge-cloud ingest` workers, into
  SQLite and into a throwaway PostgreSQL: rows against results sent (lost, duplicate), rate, lag p50/p99
  (from a result's ts_result on the device to its arrival at a worker).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from cloud_sync.bench import mosquitto
from cloud_sync.config import MqttConfig
from cloud_sync.fleet import assign
from cloud_sync.fleet._agent import AgentSpec
from cloud_sync.fleet._bench_parts import BrokerBytes, cloud_link, ingest_workers, percentile, running
from cloud_sync.fleet._plan import RolloutSpec
from cloud_sync.fleet.pgcluster import Postgres
from cloud_sync.fleet.rollout import RolloutRunner
from cloud_sync.fleet.simulate import agents, raise_fd_limit
from cloud_sync.ingest import open_store
from cloud_sync.models.keys import TrustedKeys, generate_keys, load_private_key
from cloud_sync.models.manifest import Target, make_manifest, sign_manifest
from cloud_sync.models.pusher import ModelPusher

MB = 1024 * 1024


def fake_model(size: int) -> bytes:
    """`size` bytes that pass the device's checks (TFL3 identifier at bytes 4..8)."""
    return b"\x1c\x00\x00\x00TFL3" + os.urandom(size - 8)


async def bench_rollout(port: int, workdir: Path, devices: int, model_mb: float) -> dict[str, Any]:
    _, public = generate_keys(workdir / "fleet")
    key = load_private_key(workdir / "fleet.key")
    spec = AgentSpec(MqttConfig(host="127.0.0.1", port=port), workdir / "rollout", TrustedKeys.load([public]),
                     groups=("bench",), rate=0, load_s=0.2)
    fleet = agents(spec, devices)
    db = str(workdir / "rollout.db")
    store = open_store(db)
    assign(store, "bench", [a.name for a in fleet])
    model = fake_model(int(model_mb * MB))
    counters = BrokerBytes(port)
    out: dict[str, Any] = {"devices": devices, "model_bytes": len(model), "devices_x_model": devices * len(model)}
    try:
        async with running(fleet), cloud_link(port) as link:
            before = await asyncio.to_thread(counters.fresh)
            runner = RolloutRunner(link, store, RolloutSpec("bench", "faces", 2, hashlib.sha256(model).hexdigest(),
                                                            (0.01, 0.1, 0.5, 1.0), wave_timeout=600), model, key,
                                   progress=lambda line: print(f"  {line}", flush=True) if "wave" in line else None)
            t0 = time.monotonic()
            outcome = await runner.run()
            out["waves"] = _transfer(outcome.active, time.monotonic() - t0, before, await asyncio.to_thread(
                counters.fresh), runner.chunks_sent - outcome.active * -(-len(model) // (64 * 1024)))
            before = await asyncio.to_thread(counters.fresh)
            manifest = make_manifest("faces", 3, model, Target(group="bench"))
            pusher = ModelPusher(link)
            t0 = time.monotonic()
            final = await pusher.push(sign_manifest(manifest, key), manifest, model, timeout=600, expect=devices)
            active = sum(body.get("state") == "active" for body in final.values())
            out["group"] = _transfer(active, time.monotonic() - t0, before, await asyncio.to_thread(counters.fresh),
                                     sum(max(n - 1, 0) for n in pusher.sent_chunks.values()))
    finally:
        counters.close()
        store.close()
    return out


def _transfer(active: int, seconds: float, before: tuple[int, int], after: tuple[int, int],
              reasked: int) -> dict[str, Any]:
    return {"active": active, "seconds_to_all_active": round(seconds, 2), "broker_bytes_received": after[0] - before[0],
            "broker_bytes_sent": after[1] - before[1], "chunks_reasked": reasked}


async def bench_ingest(port: int, workdir: Path, db: str, args: argparse.Namespace) -> dict[str, Any]:
    spec = AgentSpec(MqttConfig(host="127.0.0.1", port=port), workdir, TrustedKeys(), rate=args.rate)
    fleet = agents(spec, args.devices, name_prefix=workdir.name)
    with ingest_workers(port, db, workdir):
        async with running(fleet):
            await asyncio.sleep(args.seconds)
            for agent in fleet:
                agent.stop_results()
            sent = sum(a.sent for a in fleet)
            rows = await asyncio.to_thread(_wait_rows, db, sent, 120.0)
    return _ingest_figures(db, sent, rows)


def _wait_rows(db: str, sent: int, timeout: float) -> int:
    """Rows in `results` once they reach `sent`, or at `timeout`."""
    deadline = time.monotonic() + timeout
    store = open_store(db)
    try:
        while True:
            rows = int(store.query("SELECT count(*) FROM results")[0][0])
            if rows >= sent or time.monotonic() > deadline:
                return rows
            time.sleep(1.0)
    finally:
        store.close()


def _ingest_figures(db: str, sent: int, rows: int) -> dict[str, Any]:
    store = open_store(db)
    try:
        distinct = int(store.query("SELECT count(*) FROM (SELECT DISTINCT device, boot_id, stream, seq "
                                   "FROM results) AS k")[0][0])
        timing = store.query("SELECT received_at, received_at - ts_result FROM results")
    finally:
        store.close()
    arrivals = [float(r[0]) for r in timing]
    lags = [float(r[1]) for r in timing]
    span = max(arrivals) - min(arrivals) if arrivals else 0.0
    return {"sent": sent, "rows": rows, "lost": sent - distinct, "duplicates": rows - distinct,
            "rows_per_s": round(rows / span, 1) if span else None,
            "lag_p50_ms": round(percentile(lags, 0.5) * 1000, 1), "lag_p99_ms": round(percentile(lags, 0.99) * 1000, 1)}


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    figures: dict[str, Any] = {"note": "measured on a shared 2-core machine under load from other work"}
    with mosquitto(workdir, "sys_interval 1\n") as port:
        if not args.skip_rollout:
            print(f"rollout: {args.devices} devices, {args.model_mb:g} MB model", flush=True)
            figures["rollout"] = await bench_rollout(port, workdir, args.devices, args.model_mb)
            print(json.dumps(figures["rollout"], indent=1), flush=True)
        if not args.skip_ingest:
            print(f"ingest: {args.devices} devices x {args.rate:g}/s x {args.seconds:g} s, SQLite", flush=True)
            (workdir / "sqlite").mkdir()
            (workdir / "pg").mkdir()
            figures["ingest_sqlite"] = await bench_ingest(port, workdir / "sqlite", str(workdir / "ingest.db"), args)
            print(json.dumps(figures["ingest_sqlite"], indent=1), flush=True)
            server = Postgres()
            server.start(max_connections=20)
            try:
                print("ingest: PostgreSQL", flush=True)
                figures["ingest_postgresql"] = await bench_ingest(port, workdir / "pg", server.database("bench"), args)
                print(json.dumps(figures["ingest_postgresql"], indent=1), flush=True)
            finally:
                server.stop()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--model-mb", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=1.0, help="results per second per device")
    parser.add_argument("--skip-rollout", action="store_true")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    print(f"open-file limit {raise_fd_limit()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        figures = asyncio.run(run(args, Path(tmp)))
    print(json.dumps(figures, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
