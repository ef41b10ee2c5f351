"""ZeroMQ transport: a DEALER on the device, application acks from the cloud ROUTER.

Frames, device to cloud: ``[b"msg", id, topic, payload]`` (id: ASCII decimal outbox id).
Cloud to device: ``[b"ack", id, id, ...]`` once the envelopes are stored, and ``[b"push", topic, payload]``
(model pushes the listener relays, see `cloud_sync.relay`). The DEALER's routing id is the device id; it says
``[b"hello"]`` after each handshake, so the listener knows it before it sends anything.
Sends never block: at the high-water mark (or with no live peer, since IMMEDIATE is set) a send is deferred,
counted as ``hwm_deferred``, and the entry stays in the outbox. Unacked messages are sent again after
`ack_timeout`. ZeroMQ reconnects by itself, doubling its interval up to `backoff_max`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from typing import Any

import zmq
import zmq.asyncio
from zmq.utils.monitor import parse_monitor_message

from cloud_sync.config import ZmqConfig
from cloud_sync.counters import BAD_ACK, BAD_PUSH, HWM_DEFERRED, Drops
from cloud_sync.curve import client_keys
from cloud_sync.envelope import Inbound, Message, device_topic
from cloud_sync.inbound import Handler, Subscriptions

log = logging.getLogger("cloud_sync.zmq")
HELLO = b"hello"
_EVENT_TEXT: dict[int, str | None] = {
    int(zmq.EVENT_HANDSHAKE_SUCCEEDED): None,
    int(zmq.EVENT_HANDSHAKE_FAILED_AUTH): "CURVE authentication refused by the server",
    int(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL): "handshake failed (protocol)",
    int(zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL): "handshake failed (wrong server key?)",
}


def configure(sock: zmq.Socket[Any], hwm: int) -> None:
    sock.setsockopt(zmq.SNDHWM, hwm)
    sock.setsockopt(zmq.RCVHWM, hwm)
    sock.setsockopt(zmq.LINGER, 0)


class ZmqTransport:
    """The device side. `run()` owns the socket; `publish` sends a window of `max_inflight` and waits for acks."""

    def __init__(
        self, config: ZmqConfig, device: str, *, prefix: str = "edge", max_inflight: int = 64
    ) -> None:
        self.config = config
        self.device = device
        self.prefix = prefix
        self.max_inflight = max_inflight
        self.drops = Drops()
        self.last_error: str | None = None
        self.handshakes = 0
        self._up = False  # a handshake succeeded and no disconnect since
        self.sent = 0
        self.resent_after_timeout = 0
        self._sock: zmq.asyncio.Socket | None = None
        self._ready = asyncio.Event()
        self._one_call = asyncio.Lock()  # publish calls take turns: one window of acks at a time
        self._short = False  # the last publish call left entries unconfirmed
        self._ack = asyncio.Event()
        self._outstanding: set[int] = set()
        self._acked: list[int] = []
        self.subscriptions = Subscriptions(self.drops)

    def _socket(self, ctx: zmq.asyncio.Context) -> zmq.asyncio.Socket:
        cfg = self.config
        sock = ctx.socket(zmq.DEALER)
        configure(sock, cfg.hwm)
        sock.setsockopt(zmq.IMMEDIATE, 1)
        sock.setsockopt(zmq.ROUTING_ID, self.device.encode())
        sock.setsockopt(zmq.RECONNECT_IVL, 100)
        sock.setsockopt(zmq.RECONNECT_IVL_MAX, int(cfg.backoff_max * 1000))
        sock.setsockopt(zmq.HEARTBEAT_IVL, 1000)
        sock.setsockopt(zmq.HEARTBEAT_TIMEOUT, 3000)
        if cfg.curve is not None:
            keys = client_keys(cfg.curve.client_key, cfg.curve.server_key)
            sock.curve_publickey, sock.curve_secretkey, sock.curve_serverkey = keys
        return sock

    async def run(self) -> None:
        ctx = zmq.asyncio.Context()
        sock = self._socket(ctx)
        monitor = sock.get_monitor_socket()
        try:
            sock.connect(self.config.endpoint)
            self._sock = sock
            self._ready.set()
            await asyncio.gather(self._receive(sock), self._watch(sock, monitor))
        finally:
            self._ready.clear()
            self._up = False
            self._sock = None
            sock.disable_monitor()
            monitor.close(0)
            sock.close(0)
            ctx.term()

    async def _receive(self, sock: zmq.asyncio.Socket) -> None:
        while True:
            frames = await sock.recv_multipart()
            if frames[0] == b"ack":
                self._on_ack_frames(frames[1:])
            elif frames[0] == b"push" and len(frames) == 3:
                self._on_push(frames[1], frames[2])

    def _on_ack_frames(self, ids: list[bytes]) -> None:
        """One malformed id is counted (`bad_ack`) and skipped: a bad message never stops the link."""
        for raw in ids:
            try:
                msg_id = int(raw)
            except ValueError:
                self.drops.add(BAD_ACK)
                continue
            self._on_ack(msg_id)
        self._ack.set()

    def _on_push(self, topic: bytes, payload: bytes) -> None:
        try:
            message = Inbound(topic.decode(), payload)
        except UnicodeDecodeError:
            self.drops.add(BAD_PUSH)
            return
        self.subscriptions.dispatch(message)

    def _on_ack(self, msg_id: int) -> None:
        if msg_id in self._outstanding:
            self._outstanding.discard(msg_id)
            self._acked.append(msg_id)

    async def _watch(self, sock: zmq.asyncio.Socket, monitor: zmq.asyncio.Socket) -> None:
        """Turn handshake failures into `last_error` (and a log line when it changes); hello after a handshake."""
        while True:
            event = parse_monitor_message(await monitor.recv_multipart())
            if event["event"] == zmq.EVENT_HANDSHAKE_SUCCEEDED:
                self.handshakes += 1
                self.last_error = None
                self._up = True
                with contextlib.suppress(zmq.Again):
                    await sock.send_multipart([HELLO], flags=zmq.NOBLOCK)
            elif event["event"] == zmq.EVENT_DISCONNECTED:
                self._up = False
            elif event["event"] in _EVENT_TEXT:
                text = f"zmq {self.config.endpoint}: {_EVENT_TEXT[event['event']]}"
                if text != self.last_error:
                    log.error("%s", text)
                self.last_error = text

    async def publish(self, batch: Sequence[Message], *, follows: bool = False) -> list[int]:
        """Calls may overlap; they take turns. `follows`: the batch continues the previous call (fetched while
        it was in flight); when that call left entries unconfirmed (ack timeout, high-water mark), it sends
        nothing and returns []: the retry starts from the oldest unconfirmed entry (`follows=False`), never
        puts newer entries ahead of it."""
        async with self._one_call:
            if follows and self._short:
                return []
            confirmed = await self._publish(batch)
            self._short = len(confirmed) < len(batch)
            return confirmed

    async def _publish(self, batch: Sequence[Message]) -> list[int]:
        while (sock := self._sock) is None:
            await self._ready.wait()
        self._acked = []
        self._outstanding = set()
        todo = list(batch)
        next_index, last_progress = 0, time.monotonic()
        while next_index < len(todo) or self._outstanding:
            next_index = await self._send_window(sock, todo, next_index)
            blocked = next_index < len(todo) and len(self._outstanding) < self.max_inflight
            if blocked and not self._outstanding:
                break
            before = len(self._acked)
            self._ack.clear()
            remaining = self.config.ack_timeout - (time.monotonic() - last_progress)
            if remaining <= 0:
                self.resent_after_timeout += len(self._outstanding)
                break
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._ack.wait(), remaining)
            if len(self._acked) > before:
                last_progress = time.monotonic()
        if next_index < len(todo):
            self.drops.add(HWM_DEFERRED, len(todo) - next_index)
        self._outstanding = set()
        self.sent += len(self._acked)
        return list(self._acked)

    async def _send_window(self, sock: zmq.asyncio.Socket, todo: list[Message], index: int) -> int:
        """Send from `index` while fewer than `max_inflight` are unacked; returns the next unsent index."""
        while index < len(todo) and len(self._outstanding) < self.max_inflight:
            msg = todo[index]
            frames = [b"msg", str(msg.id).encode(), msg.topic.encode(), msg.payload]
            try:
                await sock.send_multipart(frames, flags=zmq.NOBLOCK)
            except zmq.Again:
                return index
            self._outstanding.add(msg.id)
            index += 1
        return index

    async def send(self, suffix: str, payload: bytes) -> bool:
        sock = self._sock
        if sock is None:
            return False
        try:
            await sock.send_multipart([b"msg", b"0", device_topic(self.prefix, self.device, suffix).encode(), payload],
                                      flags=zmq.NOBLOCK)
        except zmq.Again:
            return False
        return True

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        """Pushes arrive on the DEALER whatever the filter; `handler` gets those whose topic matches it."""
        self.subscriptions.add(topic_filter, handler)

    @property
    def connected(self) -> bool:
        return self._up and self.last_error is None

    def stats(self) -> dict[str, object]:
        return {
            "link": "zmq",
            "connected": self.connected,
            "sent": self.sent,
            "resent_after_timeout": self.resent_after_timeout,
            "last_error": self.last_error,
            "drops": self.drops.snapshot(),
        }
