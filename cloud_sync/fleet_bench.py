"""The fleet benchmark: `python -m cloud_sync.fleet_bench [--devices 1000] [--seconds 60] [--json FILE]`.

On one local mosquitto that it starts (file-descriptor limits raised), with simulated devices (real uplink and
model receiver, fake interpreter):

* rollout: a `--model-mb` model to every device in waves 1%,10%,50%,100% (each wave's chunks once on its
  channel), then the same size pushed to the whole group at once (each chunk once on the group topic): time to
  all `active`, the bytes the broker received and sent against devices x model size, chunks sent beyond one copy
  per push (re-asked by devices that missed them);
* ingest: every device (split over `--procs` simulator processes) publishing `--rate` results/s for `--seconds`
  into 2 `edge-cloud ingest` workers, into SQLite and into a throwaway PostgreSQL: rows against results sent
  (lost, duplicate), rate, lag p50/p99 (from a result's ts_result on the device to its arrival at a worker).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
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
                counters.fresh), runner.chunks_reasked)
            out["waves"]["pushes"] = runner.pushes
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
    """The devices in `args.procs` `edge-cloud fleet simulate` processes (one would be the bottleneck)."""
    with ingest_workers(port, db, workdir):
        sent = await asyncio.to_thread(simulators, port, workdir, args)
        rows = await asyncio.to_thread(_wait_rows, db, sent, 120.0)
    return {**_ingest_figures(db, sent, rows), "simulator_processes": args.procs}


def simulators(port: int, workdir: Path, args: argparse.Namespace) -> int:
    """Run the devices split over `args.procs` simulator processes for `args.seconds`; returns results sent."""
    shares = [args.devices // args.procs + (i < args.devices % args.procs) for i in range(args.procs)]
    procs = []
    for index, count in enumerate(s for s in shares if s):
        log = workdir / f"simulate-{index}.log"
        procs.append((log, subprocess.Popen(
            [sys.executable, "-m", "cloud_sync", "fleet", "simulate", "--devices", str(count), "--mqtt",
             f"127.0.0.1:{port}", "--rate", str(args.rate), "--duration", str(args.seconds), "--drain", "120",
             "--dir", str(workdir / f"sim-{index}"), "--name-prefix", f"{workdir.name}{index}"],
            stdout=subprocess.DEVNULL, stderr=log.open("wb"))))  # fmt: skip
    try:
        return sum(_sent(log, proc, args.seconds + 600) for log, proc in procs)
    finally:
        for _, proc in procs:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGTERM)
                proc.wait(30)


def _sent(log: Path, proc: subprocess.Popen[bytes], timeout: float) -> int:
    """Results one simulator process reports it sent, once it ended."""
    proc.wait(timeout)
    found = re.search(r"(\d+) results sent", log.read_text())
    if proc.returncode != 0 or found is None:
        raise RuntimeError(f"simulator failed: {log.read_text()[-2000:]}")
    return int(found.group(1))


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
    with mosquitto(workdir, "sys_interval 1\nmax_connections -1\n") as port:
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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--devices", type=int, default=1000)
    parser.add_argument("--model-mb", type=float, default=1.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=1.0, help="results per second per device")
    parser.add_argument("--skip-rollout", action="store_true")
    parser.add_argument("--skip-ingest", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--procs", type=int, default=4, help="simulator processes for the ingest run (default 4)")


def bench(args: argparse.Namespace) -> int:
    """Run the benchmark `args` asks for and print its figures (`edge-cloud fleet bench` and `main`)."""
    print(f"open-file limit {raise_fd_limit()}; load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        figures = asyncio.run(run(args, Path(tmp)))
    figures["load_average_after"] = os.getloadavg()
    print(json.dumps(figures, indent=1))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_arguments(parser)
    bench(parser.parse_args())


if __name__ == "__main__":
    main()
