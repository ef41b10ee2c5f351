"""Where `edge-cloud listen` gets envelopes: an MQTT subscription or a bound ZeroMQ ROUTER.

A source yields batches; `ack()` is called once the batch is stored (ZeroMQ then acks it to the device).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as paho
import zmq
import zmq.asyncio
from zmq.auth.asyncio import AsyncioAuthenticator

from cloud_sync._mqtt_client import Connection, Incoming, LinkDown, connect, new_client
from cloud_sync._tls import LinkError, describe, is_permanent, ssl_context
from cloud_sync.backoff import Backoff
from cloud_sync.config import TlsConfig
from cloud_sync.counters import Drops
from cloud_sync.curve import secure_server
from cloud_sync.relay import ModelRelay, is_model_reply
from cloud_sync.zmq_link import configure

log = logging.getLogger("cloud_sync.listen")
MAX_BATCH = 1000
KEEPALIVE_S = 10
PENDING = 100_000  # messages received and not yet taken into a batch; beyond, reading the socket pauses


@dataclass(frozen=True, slots=True)
class Received:
    topic: str
    payload: bytes


@dataclass(frozen=True)
class MqttOptions:
    host: str
    port: int
    prefix: str = "edge"
    qos: int = 1
    client_id: str = "edge-cloud-listen"
    tls: TlsConfig | None = None
    username: str | None = None
    password: str | None = None


class MqttSource:
    """Subscribes to every device under the prefix with a persistent session (clean_session False), so what
    the broker queued while this listener was away is delivered when it is back.

    Messages are acknowledged (PUBACK) only in `ack()`, after the batch is written: a listener killed between
    receipt and write gets them again from the broker (paho's manual acknowledgement).
    """

    def __init__(self, options: MqttOptions, ready: Callable[[str], None]) -> None:
        self.options = options
        self._ready = ready
        self._conn: Connection | None = None
        self._unacked: list[tuple[int, int]] = []  # (mid, qos) of the batch being stored
        self._pending: deque[Incoming] = deque()
        self._arrived = asyncio.Event()

    def topics(self) -> list[str]:
        p = self.options.prefix
        return [f"{p}/+/results/#", f"{p}/+/events/#", f"{p}/+/stats", f"{p}/+/status"]

    def _client(self) -> paho.Client:
        o = self.options
        client = new_client(o.client_id, clean_session=False, manual_ack=True)
        if o.username is not None:
            client.username_pw_set(o.username, o.password)
        if o.tls is not None:
            client.tls_set_context(ssl_context(o.tls))
        return client

    def _received(self, message: Incoming) -> None:
        self._pending.append(message)
        self._arrived.set()
        if len(self._pending) >= PENDING and self._conn is not None:
            self._conn.pause_reading()  # the broker holds the rest (QoS 1: unacknowledged, sent again)

    async def batches(self) -> AsyncIterator[list[Received]]:
        where = f"mqtt {self.options.host}:{self.options.port}"
        backoff, connected_once = Backoff(0.2, 5.0), False
        while True:
            self._unacked.clear()  # a new session: the broker resends whatever was not acknowledged
            self._pending.clear()
            try:
                async with connect(self._client(), self.options.host, self.options.port, KEEPALIVE_S,
                                   on_message=self._received) as conn:  # fmt: skip
                    self._conn = conn
                    for topic in self.topics():
                        await conn.subscribe(topic, qos=self.options.qos)
                    self._ready(f"subscribed to {where} {self.options.prefix}/+/...")
                    connected_once = True
                    backoff.reset()
                    while True:
                        yield await self._batch(conn)
            except LinkDown as exc:
                if not connected_once and is_permanent(exc):
                    raise LinkError(f"{where}: {describe(exc)}") from None
                log.warning("%s: %s (reconnecting)", where, describe(exc))
            await asyncio.sleep(backoff.next())

    async def _batch(self, conn: Connection) -> list[Received]:
        """Whatever has arrived, up to MAX_BATCH messages; their (mid, qos) go to `_unacked`. LinkDown when lost."""
        while not self._pending:
            if conn.lost:
                await conn.wait_lost()  # raises LinkDown
            self._arrived.clear()
            waits = [asyncio.ensure_future(conn.wait_lost()), asyncio.ensure_future(self._arrived.wait())]
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()
                await asyncio.gather(*waits, return_exceptions=True)
        batch: list[Received] = []
        while self._pending and len(batch) < MAX_BATCH:
            message = self._pending.popleft()
            batch.append(Received(message.topic, message.payload))
            if message.qos > 0:
                self._unacked.append((message.mid, message.qos))
        if len(self._pending) < PENDING // 2:
            conn.resume_reading()
        return batch

    async def ack(self) -> None:
        """The batch is stored: acknowledge its messages to the broker."""
        if self._conn is not None:
            for mid, qos in self._unacked:
                self._conn.ack(mid, qos)
        self._unacked.clear()


class ZmqSource:
    """A ROUTER bound on `bind`; with `curve_dir`, CURVE server keys and the allowed client keys (see curve.py)."""

    def __init__(
        self, bind: str, ready: Callable[[str], None], curve_dir: Path | None = None, hwm: int = 10000, *,
        relay_bind: str | None = None, prefix: str = "edge",
    ) -> None:  # fmt: skip
        self.bind = bind
        self.relay_bind = relay_bind
        self.prefix = prefix
        self.relay: ModelRelay | None = None
        self.curve_dir = curve_dir
        self.hwm = hwm
        self.drops = Drops()
        self._ready = ready
        self._sock: zmq.asyncio.Socket | None = None
        self._pending: dict[bytes, list[bytes]] = {}

    def _secure(self, ctx: zmq.asyncio.Context, sock: zmq.asyncio.Socket) -> AsyncioAuthenticator | None:
        if self.curve_dir is None:
            return None
        return secure_server(ctx, sock, self.curve_dir)

    async def batches(self) -> AsyncIterator[list[Received]]:
        ctx = zmq.asyncio.Context()
        sock = ctx.socket(zmq.ROUTER)
        configure(sock, self.hwm)
        sock.setsockopt(zmq.ROUTER_MANDATORY, 1)
        sock.setsockopt(zmq.ROUTER_HANDOVER, 1)  # a device that reconnects takes its routing id over
        auth = self._secure(ctx, sock)
        relaying: asyncio.Task[None] | None = None
        try:
            try:
                sock.bind(self.bind)
            except zmq.ZMQError as exc:
                raise LinkError(f"zmq bind {self.bind}: {exc}") from None
            self._sock = sock
            relaying = self._start_relay(ctx, sock)
            self._ready(f"bound zmq {self.bind}" + (" (CURVE)" if auth else "") + self._relay_text())
            while True:
                yield await self._batch(sock)
        finally:
            self._sock = None
            if relaying is not None:
                relaying.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await relaying
            if self.relay is not None:
                self.relay.close()
            if auth is not None:
                auth.stop()
            sock.close(0)
            ctx.term()

    def _start_relay(self, ctx: zmq.asyncio.Context, sock: zmq.asyncio.Socket) -> asyncio.Task[None] | None:
        if self.relay_bind is None:
            return None
        self.relay = ModelRelay(ctx, self.relay_bind, sock, prefix=self.prefix, curve_dir=self.curve_dir)
        return asyncio.create_task(self.relay.run(), name="listen:model-relay")

    def _relay_text(self) -> str:
        return f", model relay on {self.relay.endpoint}" if self.relay is not None else ""

    async def _batch(self, sock: zmq.asyncio.Socket) -> list[Received]:
        batch: list[Received] = []
        frames = await sock.recv_multipart()
        while True:
            if self.relay is not None:
                self.relay.heard_from(frames[0])
                if len(frames) == 5 and frames[1] == b"msg" and is_model_reply(frames[3].decode(errors="replace")):
                    await self.relay.to_pushers(frames[3], frames[4])
                    frames = [frames[0]]  # not an envelope: neither stored nor acked
            if len(frames) == 5 and frames[1] == b"msg":
                self._pending.setdefault(frames[0], []).append(frames[2])
                batch.append(Received(frames[3].decode(errors="replace"), frames[4]))
            if len(batch) >= MAX_BATCH or not int(sock.getsockopt(zmq.EVENTS)) & zmq.POLLIN:
                return batch
            frames = await sock.recv_multipart()

    async def ack(self) -> None:
        """Ack the last batch to each device that sent part of it; an ack that cannot be sent is counted."""
        sock, pending, self._pending = self._sock, self._pending, {}
        if sock is None:
            return
        for identity, ids in pending.items():
            try:
                await sock.send_multipart([identity, b"ack", *ids], flags=zmq.NOBLOCK)
            except zmq.ZMQError:
                self.drops.add("ack_unsent")
