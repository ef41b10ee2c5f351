"""The pusher's end of model updates over ZeroMQ: a DEALER to the model relay of `edge-cloud listen`.

A device holds one ZeroMQ connection, to the listener; the listener binds a relay ROUTER (``--relay-bind``) and
carries pushes to the devices and their status / need messages back (see `cloud_sync.relay`). Frames are
``[topic, payload]``, the topics being the MQTT ones; the DEALER says ``[b"hello"]`` on start and every
`HELLO_S` seconds, so a listener that restarted learns where to send the devices' answers. ZeroMQ reconnects by
itself; a push sent while the relay is away is refused (IMMEDIATE) and the protocol asks again.

CURVE, as on the results link (see `cloud_sync.curve`): the pusher takes the server's public key and its own
secret key; the listener lets it in when its public key is in the ``--curve-dir``'s ``clients/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import zmq
import zmq.asyncio

from cloud_sync.config import CurveConfig
from cloud_sync.curve import client_keys
from cloud_sync.envelope import Inbound
from cloud_sync.inbound import InboundQueue
from cloud_sync.relay import HELLO, HWM

HELLO_S = 1.0


class ZmqCloudLink:
    """The cloud end (`CloudLink`) for `edge-cloud models --zmq`: connects to the listener's model relay."""

    def __init__(self, endpoint: str, prefix: str = "edge", curve: CurveConfig | None = None) -> None:
        self.endpoint = endpoint
        self.prefix = prefix
        # keys before any socket: a bad file leaks none
        keys = client_keys(curve.client_key, curve.server_key) if curve is not None else None
        self._inbox = InboundQueue(1024)
        self._context = zmq.asyncio.Context()
        self._sock = self._context.socket(zmq.DEALER)
        for option, value in ((zmq.LINGER, 0), (zmq.SNDHWM, HWM), (zmq.RCVHWM, HWM), (zmq.IMMEDIATE, 1),
                              (zmq.RECONNECT_IVL, 100), (zmq.RECONNECT_IVL_MAX, 5000)):  # fmt: skip
            self._sock.setsockopt(option, value)
        if keys is not None:
            self._sock.curve_publickey, self._sock.curve_secretkey, self._sock.curve_serverkey = keys
        try:
            self._sock.connect(endpoint)
        except zmq.ZMQError:
            self._close()
            raise

    async def run(self) -> None:
        hello = asyncio.create_task(self._hello(), name="models:zmq-hello")
        try:
            while True:
                frames = await self._sock.recv_multipart()
                if len(frames) == 2:
                    self._inbox.put(Inbound(frames[0].decode(errors="replace"), frames[1]))
        finally:
            hello.cancel()
            self._close()

    def _close(self) -> None:
        self._sock.close(0)
        self._context.term()

    async def _hello(self) -> None:
        while True:
            await self._send([HELLO])
            await asyncio.sleep(HELLO_S)

    async def _send(self, frames: list[bytes]) -> bool:
        try:
            await self._sock.send_multipart(frames, flags=zmq.NOBLOCK)
        except zmq.Again:  # the relay is not connected, or over the high-water mark
            return False
        return True

    async def publish(self, topic: str, payload: bytes) -> bool:
        return await self._send([topic.encode(), payload])

    def inbound(self) -> AsyncIterator[Inbound]:
        return self._inbox.__aiter__()
