"""A minimal cloud ROUTER for ZeroMQ link tests (real loopback socket): stores and acks what devices send,
pushes to the device it last heard from."""

from __future__ import annotations

import asyncio

import zmq
import zmq.asyncio

from tests.support.ports import free_port


class ZmqCloud:
    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"tcp://127.0.0.1:{self.port}"
        self.received: list[tuple[str, bytes]] = []
        self._context = zmq.asyncio.Context()
        self._sock = self._context.socket(zmq.ROUTER)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.bind(self.endpoint)
        self._peer: bytes | None = None
        self._heard = asyncio.Event()

    async def run(self) -> None:
        try:
            while True:
                frames = await self._sock.recv_multipart()
                if len(frames) == 5 and frames[1] == b"msg":
                    self._peer = frames[0]
                    self._heard.set()
                    self.received.append((frames[3].decode(), frames[4]))
                    await self._sock.send_multipart([frames[0], b"ack", frames[2]])
        finally:
            self._sock.close(0)
            self._context.term()

    async def push(self, topic: str, payload: bytes) -> None:
        await self._heard.wait()
        assert self._peer is not None
        await self._sock.send_multipart([self._peer, b"push", topic.encode(), payload])
