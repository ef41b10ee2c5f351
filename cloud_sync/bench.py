"""Benchmarks of the cloud link: `python -m cloud_sync.bench [--json FILE]`.

Outbox commits/s (one row per transaction vs group commits), uplink throughput to a local mosquitto at QoS 0 and 1
against a plain paho-mqtt publish loop, and the drain time of a 100k-entry backlog. Starts its own mosquitto.

`uplink` is the whole path: put() -> committer (encode, SQLite group commit) -> drain -> MQTT -> delete.
`transport` is the MQTT link alone (`MqttTransport.publish` of encoded messages in batches, no outbox): the
like-for-like figure against the paho loop, which publishes encoded payloads and stores nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from cloud_sync.config import CloudConfig, MqttConfig
from cloud_sync.envelope import Envelope, Message, encode, key_of, topic_of
from cloud_sync.mqtt import MqttTransport
from cloud_sync.outbox import Entry, Outbox
from cloud_sync.uplink import Uplink


def bench_envelope(seq: int) -> Envelope:
    """165 bytes encoded for a one-digit seq (a byte more per extra digit)."""
    return {"device": "bench", "stream": "porch", "seq": seq, "boot_id": "b0", "ts_capture": 1763856000.123,
            "ts_result": 1763856000.171, "kind": "detections", "payload": {"faces": [[0.3, 0.1]]}}


def _entries(n: int, start: int = 0) -> list[Entry]:
    return [Entry(key_of(e), topic_of("edge", e), encode(e)) for e in map(bench_envelope, range(start, start + n))]


def bench_commits(workdir: Path) -> dict[str, float]:
    single = Outbox(workdir / "single.db", 10**10)
    rows = _entries(2000)
    t0 = time.perf_counter()
    for entry in rows:
        single.add([entry])
    single_rate = len(rows) / (time.perf_counter() - t0)
    single.close()
    grouped = Outbox(workdir / "grouped.db", 10**10)
    rows = _entries(50_000)
    t0 = time.perf_counter()
    for i in range(0, len(rows), 256):
        grouped.add(rows[i : i + 256])
    grouped_rate = len(rows) / (time.perf_counter() - t0)
    grouped.close()
    return {"single_row_per_s": single_rate, "grouped_256_per_s": grouped_rate}


@contextmanager
def mosquitto(workdir: Path, extra: str = "") -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    conf = workdir / "mosquitto.conf"
    root = "user root\n" if os.geteuid() == 0 else ""
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 0\n"
                    f"max_queued_messages 0\n{root}{extra}")
    proc = subprocess.Popen([shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"mosquitto did not start on 127.0.0.1:{port}") from None
                time.sleep(0.05)
        yield port
    finally:
        proc.terminate()
        proc.wait(5)


def bench_paho(port: int, qos: int, n: int, inflight: int) -> float:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"paho-bench-{qos}")
    client.max_inflight_messages_set(inflight)
    client.connect("127.0.0.1", port)
    client.loop_start()
    payloads = [encode(bench_envelope(i)) for i in range(n)]
    t0 = time.perf_counter()
    infos = [client.publish("edge/bench/results/porch", p, qos=qos) for p in payloads]
    infos[-1].wait_for_publish(60)
    rate = n / (time.perf_counter() - t0)
    client.loop_stop()
    client.disconnect()
    return rate


async def _uplink_run(config: CloudConfig, n: int, prefill: bool) -> float:
    if prefill:
        box = Outbox(config.outbox.path, config.outbox.max_bytes)
        for i in range(0, n, 1000):
            box.add(_entries(min(1000, n - i), i))
        box.close()
    uplink = Uplink(config, "bench")
    t0 = time.perf_counter()
    runner = asyncio.create_task(uplink.run())
    if not prefill:
        for i in range(n):
            uplink.put(bench_envelope(i))
    while uplink.delivered < n:  # noqa: ASYNC110 - a benchmark polls its counter
        await asyncio.sleep(0.005)
    rate = n / (time.perf_counter() - t0)
    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)
    return rate


async def _transport_run(port: int, qos: int, n: int, batch: int) -> float:
    transport = MqttTransport(MqttConfig(host="127.0.0.1", port=port, client_id=f"bench-transport-{qos}"), "bench",
                              qos=qos, max_inflight=64)
    runner = asyncio.create_task(transport.run())
    await transport.wait_connected()
    messages = [Message(i + 1, "edge/bench/results/porch", encode(bench_envelope(i))) for i in range(n)]
    t0 = time.perf_counter()
    calls = [asyncio.ensure_future(transport.publish(messages[i : i + batch])) for i in range(0, n, batch)]
    confirmed = sum(len(ids) for ids in await asyncio.gather(*calls))
    rate = confirmed / (time.perf_counter() - t0)
    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)
    return rate


def bench_transport(port: int, qos: int, n: int, batch: int = 512) -> float:
    return asyncio.run(_transport_run(port, qos, n, batch))


def bench_uplink(port: int, workdir: Path, qos: int, n: int, prefill: bool = False) -> float:
    config = CloudConfig.model_validate({
        "mqtt": {"host": "127.0.0.1", "port": port, "client_id": f"bench-{qos}-{prefill}"},
        "outbox": {"path": str(workdir / f"uplink-{qos}-{prefill}.db"), "buffer": n, "batch_size": 512},
        "qos": qos, "max_inflight": 64,
    })
    return asyncio.run(_uplink_run(config, n, prefill))


def run(n: int = 20_000, backlog: int = 100_000) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cloud-bench-") as tmp:
        workdir = Path(tmp)
        results: dict[str, Any] = {"envelope_bytes": len(encode(bench_envelope(1))), "messages": n}
        results["outbox"] = bench_commits(workdir)
        with mosquitto(workdir) as port:
            for qos in (0, 1):
                paho_rate = bench_paho(port, qos, n, 64)
                uplink_rate = bench_uplink(port, workdir, qos, n)
                transport_rate = bench_transport(port, qos, n)
                results[f"qos{qos}"] = {"paho_loop_per_s": paho_rate, "uplink_per_s": uplink_rate,
                                        "ratio": uplink_rate / paho_rate, "transport_per_s": transport_rate,
                                        "transport_ratio": transport_rate / paho_rate}
            t0 = time.perf_counter()
            rate = bench_uplink(port, workdir, 1, backlog, prefill=True)
            results["backlog"] = {"entries": backlog, "drain_s": backlog / rate, "per_s": rate,
                                  "wall_s_incl_prefill": time.perf_counter() - t0}
    return results


def table(r: dict[str, Any]) -> str:
    lines = [
        f"envelope: {r['envelope_bytes']} bytes, {r['messages']} messages per throughput run",
        f"outbox commits/s   single-row {r['outbox']['single_row_per_s']:>10.0f}   "
        f"grouped(256) {r['outbox']['grouped_256_per_s']:>10.0f}",
    ]
    for qos in (0, 1):
        q = r[f"qos{qos}"]
        lines.append(f"QoS{qos} msg/s        paho loop  {q['paho_loop_per_s']:>10.0f}   "
                     f"uplink       {q['uplink_per_s']:>10.0f}   ratio {q['ratio']:.0%}   "
                     f"transport {q['transport_per_s']:>7.0f}   ratio {q['transport_ratio']:.0%}")
    b = r["backlog"]
    lines.append(f"backlog drain      {b['entries']} entries in {b['drain_s']:.1f} s ({b['per_s']:.0f}/s, QoS1)")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path, default=Path("var/bench-cloud.json"), help="where to write the figures")
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--backlog", type=int, default=100_000)
    args = parser.parse_args()
    results = run(args.messages, args.backlog)
    print(table(results))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
