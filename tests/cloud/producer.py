"""A device stand-in for the kill tests: an Uplink over MQTT with a file outbox, producing at a fixed rate.

Prints ``C <boot_id> <stream> <seq>`` on stdout after each group commit, for every key it made durable.
Run: python -m tests.cloud.producer --port P --outbox FILE --boot B [--rate 200] [--count N]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from cloud_sync import CloudConfig, Key, Uplink
from tests.cloud.support import envelope

STREAMS = ("porch", "yard")


def _print_commit(keys: list[Key]) -> None:
    sys.stdout.write("".join(f"C {k.boot_id} {k.stream} {k.seq}\n" for k in keys))
    sys.stdout.flush()


async def produce(args: argparse.Namespace) -> None:
    config = CloudConfig.model_validate({
        "mqtt": {"host": "127.0.0.1", "port": args.port, "backoff_initial": 0.1, "backoff_max": 1.0},
        "outbox": {"path": str(args.outbox), "batch_size": 64},
    })
    uplink = Uplink(config, "dev1", on_commit=_print_commit)
    runner = asyncio.create_task(uplink.run(), name="uplink")
    period = 1.0 / args.rate
    for seq in range(args.count):
        for stream in STREAMS:
            uplink.put(envelope(seq, stream=stream, boot_id=args.boot))
        await asyncio.sleep(period * len(STREAMS))
    await uplink.close()
    runner.cancel()
    await asyncio.gather(runner, return_exceptions=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--outbox", type=Path, required=True)
    parser.add_argument("--boot", required=True)
    parser.add_argument("--rate", type=float, default=200.0, help="envelopes per second, all streams")
    parser.add_argument("--count", type=int, default=1_000_000, help="seqs per stream")
    asyncio.run(produce(parser.parse_args()))


if __name__ == "__main__":
    main()
