"""`edge-cloud fleet simulate`: N light device agents in this process, each with its own MQTT sessions, client
ids, retained status and Last Will, publishing results through the real uplink and taking model pushes through
the real receiver; a fake interpreter loads in `--load-time` and fails the canary on `--fail` of the devices."""

from __future__ import annotations

import argparse
import asyncio
import math
import resource
import sys
from pathlib import Path

from cloud_sync._args import host_port
from cloud_sync._compat import TaskGroup
from cloud_sync._until import until_stopped
from cloud_sync.config import MqttConfig
from cloud_sync.fleet._agent import Agent, AgentSpec
from cloud_sync.models.keys import TrustedKeys

DRAIN_POLL_S = 0.5


def failing(index: int, fraction: float) -> bool:
    """Exactly `fraction` of the devices fail, spread evenly (device i fails when the running share steps up)."""
    return int((index + 1) * fraction) > int(index * fraction)


def device_names(count: int, prefix: str = "sim") -> list[str]:
    return [f"{prefix}-{i:04d}" for i in range(count)]


def agents(spec: AgentSpec, count: int, fail: float = 0.0, name_prefix: str = "sim") -> list[Agent]:
    return [Agent(spec, name, fails=failing(i, fail)) for i, name in enumerate(device_names(count, name_prefix))]


async def run_fleet(fleet: list[Agent]) -> None:
    """Run every agent until cancelled; results of agent i start at phase i/N of a period (no burst)."""
    count = max(len(fleet), 1)
    async with TaskGroup() as group:
        for index, agent in enumerate(fleet):
            group.create_task(agent.run(index / count), name=f"agent:{agent.name}")


def raise_fd_limit() -> int:
    """Open-file limit up to the hard limit (two connections and an outbox per device); returns the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("simulate", help="run N simulated devices against a broker", description=__doc__)
    p.add_argument("--devices", type=int, required=True, help="how many devices")
    p.add_argument("--mqtt", metavar="HOST:PORT", required=True, help="the broker")
    p.add_argument("--rate", type=float, default=1.0, help="results per second per device (default 1)")
    p.add_argument("--group", action="append", default=[], help="group the devices take group pushes for")
    p.add_argument("--trusted-key", type=Path, action="append", default=[], help="public key trusted for pushes")
    p.add_argument("--load-time", type=float, default=0.2, help="seconds the fake interpreter takes to load")
    p.add_argument("--fail", type=float, default=0.0, help="share of devices whose canary fails (0..1)")
    p.add_argument("--dir", type=Path, default=Path("var/simulate"), help="outboxes and model stores")
    p.add_argument("--prefix", default="edge", help="topic prefix (default edge)")
    p.add_argument("--duration", type=float, help="stop producing results after this many seconds, then stop")
    p.add_argument("--drain", type=float, default=0.0, help="after --duration, seconds to wait for the outboxes "
                   "to deliver what they hold (default 0)")
    p.add_argument("--name-prefix", default="sim", help="device names are PREFIX-0000... (default sim)")
    p.set_defaults(func=_simulate)


def _simulate(args: argparse.Namespace) -> int:
    if args.devices < 1 or not 0.0 <= args.fail <= 1.0 or args.rate < 0 or args.drain < 0:
        raise ValueError("--devices must be >= 1, --fail within 0..1, --rate >= 0, --drain >= 0")
    host, port = host_port(args.mqtt)
    raise_fd_limit()
    spec = AgentSpec(MqttConfig(host=host, port=port), args.dir, TrustedKeys.load(args.trusted_key), args.prefix,
                     tuple(args.group), args.rate, args.load_time)
    fleet = agents(spec, args.devices, args.fail, args.name_prefix)
    return asyncio.run(_until_stopped(fleet, args.duration, args.drain))


async def _until_stopped(fleet: list[Agent], duration: float | None, drain: float) -> int:
    print(f"edge-cloud fleet simulate: {len(fleet)} devices running", file=sys.stderr, flush=True)
    try:
        await until_stopped(_run_for(fleet, duration, drain), None, "fleet")
    finally:
        print(f"edge-cloud fleet simulate: {sum(a.sent for a in fleet)} results sent, "
              f"{sum(a.uplink.delivered for a in fleet)} delivered", file=sys.stderr, flush=True)
    return 0


async def _run_for(fleet: list[Agent], duration: float | None, drain: float) -> None:
    """The fleet until cancelled; with `duration`: results for that long, then up to `drain` s to deliver them."""
    async with TaskGroup() as group:
        running = group.create_task(run_fleet(fleet), name="fleet")
        if duration is None:
            return
        await asyncio.sleep(duration)
        for agent in fleet:
            agent.stop_results()
        for _ in range(math.ceil(drain / DRAIN_POLL_S)):
            if all(a.uplink.delivered >= a.sent for a in fleet):
                break
            await asyncio.sleep(DRAIN_POLL_S)
        running.cancel()
