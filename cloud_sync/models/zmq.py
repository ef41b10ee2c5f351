"""Model updates over ZeroMQ: a DEALER on the device, a ROUTER in the cloud, its own socket pair.

Frames are ``[topic, payload]``, the topics being the MQTT ones. The device DEALER's routing id is its device
id; it says ``[b"hello", {"groups": [...]}]`` on start and every `HELLO_S` seconds, so a ROUTER that restarted
learns who is connected and in which groups. ZeroMQ reconnects by itself (interval doubling up to a cap); a
message for a peer that is not connected is refused at once (ROUTER_MANDATORY) and the protocol asks again.

CURVE, as on the results link (see `cloud_sync.curve`): the device takes the `cloud.zmq.curve` key files (server
public key, its own secret key); the cloud takes a key directory (``server.key_secret``, ``clients/*.key``) and a
ZAP authenticator refuses any device whose public key is not in ``clients/``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import zmq
import zmq.asyncio
from zmq.auth.asyncio import AsyncioAuthenticator

from cloud_sync._tls import LinkError
from cloud_sync.config import CurveConfig
from cloud_sync.counters import Drops
from cloud_sync.curve import client_keys, secure_server
from cloud_sync.envelope import Inbound, device_topic
from cloud_sync.inbound import Handler, InboundQueue, Subscriptions
from cloud_sync.models.wire import PUSH

log = logging.getLogger("cloud_sync.models")
HELLO = b"hello"
HELLO_S = 1.0
HWM = 1000


def _socket(context: zmq.asyncio.Context, kind: int) -> zmq.asyncio.Socket:
    sock = context.socket(kind)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.SNDHWM, HWM)
    sock.setsockopt(zmq.RCVHWM, HWM)
    sock.setsockopt(zmq.RECONNECT_IVL, 100)
    sock.setsockopt(zmq.RECONNECT_IVL_MAX, 5000)
    return sock


class ZmqDeviceLink:
    """The device end (`DeviceLink`). Construct and `run()` on the event loop. With `curve` (the results link's
    `cloud.zmq.curve`), the link is encrypted and the cloud checks this device's key."""

    def __init__(
        self,
        endpoint: str,
        device: str,
        groups: Sequence[str] = (),
        prefix: str = "edge",
        curve: CurveConfig | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.device = device
        self.groups = list(groups)
        self.prefix = prefix
        # keys before any socket: a bad file leaks none
        keys = client_keys(curve.client_key, curve.server_key) if curve is not None else None
        self.drops = Drops()
        self.subscriptions = Subscriptions(self.drops)
        self._context = zmq.asyncio.Context()
        self._sock = _socket(self._context, zmq.DEALER)
        self._sock.setsockopt(zmq.ROUTING_ID, device.encode())
        if keys is not None:
            self._sock.curve_publickey, self._sock.curve_secretkey, self._sock.curve_serverkey = keys

    async def run(self) -> None:
        self._sock.connect(self.endpoint)
        hello = asyncio.create_task(self._hello(), name="models:zmq-hello")
        try:
            while True:
                frames = await self._sock.recv_multipart()
                if len(frames) == 2:
                    self.subscriptions.dispatch(Inbound(frames[0].decode(errors="replace"), frames[1]))
        finally:
            hello.cancel()
            self._sock.close(0)
            self._context.term()

    async def _hello(self) -> None:
        body = json.dumps({"groups": self.groups}).encode()
        while True:
            await self.send_frames([HELLO, body])
            await asyncio.sleep(HELLO_S)

    async def send_frames(self, frames: list[bytes]) -> bool:
        try:
            await self._sock.send_multipart(frames, flags=zmq.NOBLOCK)
        except zmq.Again:
            return False
        return True

    async def send(self, suffix: str, payload: bytes) -> bool:
        return await self.send_frames([device_topic(self.prefix, self.device, suffix).encode(), payload])

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        self.subscriptions.add(topic_filter, handler)


class ZmqCloudLink:
    """The cloud end (`CloudLink`): binds a ROUTER; routes a device topic to that device, a group topic to its
    members (as they last said hello). With `curve_dir` (``server.key_secret``, ``clients/*.key``), only the
    devices whose keys are in ``clients/`` get in; construct it on the running event loop then (the ZAP
    authenticator runs there)."""

    def __init__(self, bind: str, prefix: str = "edge", curve_dir: Path | None = None) -> None:
        self.bind = bind
        self.prefix = prefix
        self.groups: dict[str, set[str]] = {}  # device -> its groups
        self._inbox = InboundQueue(1024)
        self._context = zmq.asyncio.Context()
        self._sock = _socket(self._context, zmq.ROUTER)
        self._sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self._auth: AsyncioAuthenticator | None = None
        try:
            if curve_dir is not None:
                self._auth = secure_server(self._context, self._sock, curve_dir)
            self._bind(bind)
        except LinkError:
            self._close()
            raise

    def _bind(self, bind: str) -> None:
        try:
            self._sock.bind(bind)
        except zmq.ZMQError as exc:
            raise LinkError(f"zmq bind {bind}: {exc}") from None

    @property
    def endpoint(self) -> str:
        return str(self._sock.getsockopt_string(zmq.LAST_ENDPOINT))

    async def run(self) -> None:
        try:
            while True:
                frames = await self._sock.recv_multipart()
                if len(frames) == 3:
                    self._received(frames[0].decode(errors="replace"), frames[1], frames[2])
        finally:
            self._close()

    def _close(self) -> None:
        if self._auth is not None:
            self._auth.stop()
        self._sock.close(0)
        self._context.term()

    def _received(self, device: str, first: bytes, payload: bytes) -> None:
        if first == HELLO:
            try:
                groups = json.loads(payload).get("groups", [])
            except (ValueError, AttributeError):
                groups = []
            self.groups[device] = {str(g) for g in groups} if isinstance(groups, list) else set()
        else:
            self._inbox.put(Inbound(first.decode(errors="replace"), payload))

    def _recipients(self, topic: str) -> list[str]:
        parts = topic.split("/")
        if topic.startswith(f"{self.prefix}/groups/") and len(parts) >= 3:
            group = parts[-3]
            return [d for d, groups in self.groups.items() if group in groups]
        return [parts[-3]] if topic.endswith(PUSH) and len(parts) >= 3 else []

    async def publish(self, topic: str, payload: bytes) -> bool:
        sent = False
        for device in self._recipients(topic):
            try:
                await self._sock.send_multipart([device.encode(), topic.encode(), payload], flags=zmq.NOBLOCK)
                sent = True
            except (zmq.Again, zmq.ZMQError):  # not connected (EHOSTUNREACH) or over the high-water mark
                log.debug("zmq: %s not reachable", device)
        return sent

    def inbound(self) -> AsyncIterator[Inbound]:
        return self._inbox.__aiter__()
