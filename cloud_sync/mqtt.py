"""MQTT transport: our own reconnect loop, birth/LWT status, batches pipelined through one paho client.

Every connection publishes ``online`` (retained, QoS 1) on ``<prefix>/<device>/status`` and registers ``offline``
(retained) as its Last Will; a clean stop publishes ``offline`` itself. A batch is handed to paho whole (in
slices, so the event loop is never held for long); paho keeps `max_inflight` publishes awaiting their PUBACK and
writes the rest as PUBACKs arrive, in order. The connection itself is `cloud_sync._mqtt_client.Connection`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence

import paho.mqtt.client as paho

from cloud_sync._mqtt_client import Batch, Connection, LinkDown, new_client
from cloud_sync._tls import describe, ssl_context
from cloud_sync.backoff import Backoff
from cloud_sync.config import MqttConfig
from cloud_sync.counters import INBOUND_FULL, Drops
from cloud_sync.envelope import Inbound, Message, device_topic

log = logging.getLogger("cloud_sync.mqtt")
ONLINE = b"online"
OFFLINE = b"offline"
SLICE = 64  # messages handed to paho between two turns of the event loop


class _Call:
    """One `publish` call: the connection it was sent on and its batch."""

    __slots__ = ("batch", "conn")

    def __init__(self, conn: Connection, batch: Batch) -> None:
        self.conn = conn
        self.batch = batch


class MqttTransport:
    """The device side of MQTT. Construct on the event loop; `run()` in the runtime's task group."""

    def __init__(
        self,
        config: MqttConfig,
        device: str,
        *,
        prefix: str = "edge",
        qos: int = 1,
        max_inflight: int = 64,
        subscribe: Sequence[str] = (),
        inbound_size: int = 64,
    ) -> None:
        self.config = config
        self.device = device
        self.prefix = prefix
        self.qos = qos
        self.max_inflight = max_inflight
        self.subscriptions = tuple(subscribe)
        self.drops = Drops()
        self.last_error: str | None = None
        self.connects = 0
        self.sent = 0
        self._conn: Connection | None = None
        self._send_lock = asyncio.Lock()
        self._previous: _Call | None = None
        self._up = asyncio.Event()
        self._inbound: asyncio.Queue[Inbound] = asyncio.Queue(maxsize=inbound_size)
        self._backoff = Backoff(config.backoff_initial, config.backoff_max)

    def topic(self, suffix: str) -> str:
        return device_topic(self.prefix, self.device, suffix)

    def client(self) -> paho.Client:
        """A configured, unconnected paho client (TLS, credentials, Last Will)."""
        cfg = self.config
        client = new_client(cfg.client_id or f"edge-{self.device}")
        if cfg.username is not None:
            client.username_pw_set(cfg.username, cfg.password)
        if cfg.tls is not None:
            client.tls_set_context(ssl_context(cfg.tls))
        client.will_set(self.topic("status"), OFFLINE, qos=1, retain=True)
        return client

    async def run(self) -> None:
        where = f"mqtt {self.config.host}:{self.config.port}"
        while True:
            try:
                await self._connected_session()
            except LinkDown as exc:
                message = describe(exc)
                if message != self.last_error:
                    log.warning("%s: %s (reconnecting with backoff)", where, message)
                self.last_error = message
            await asyncio.sleep(self._backoff.next())

    async def _connected_session(self) -> None:
        cfg = self.config
        conn = await Connection.open(self.client(), cfg.host, cfg.port, cfg.keepalive, window=self.max_inflight,
                                     on_message=self._deliver)
        try:
            if not await conn.publish_one(self.topic("status"), ONLINE, qos=1, retain=True):
                raise LinkDown("the birth message was not acknowledged")
            for suffix in self.subscriptions:
                await conn.subscribe(self.topic(suffix), qos=1)
            self._conn, self.last_error = conn, None
            self.connects += 1
            self._backoff.reset()
            self._up.set()
            log.info("mqtt %s:%s: connected", cfg.host, cfg.port)
            await conn.wait_lost()
        except asyncio.CancelledError:
            if not conn.lost:
                await conn.publish_one(self.topic("status"), OFFLINE, qos=1, retain=True, timeout=2.0)
                await conn.close()
            raise
        finally:
            self._up.clear()
            self._conn = None
            conn.abort()

    def _deliver(self, topic: str, payload: bytes) -> None:
        try:
            self._inbound.put_nowait(Inbound(topic, payload))
        except asyncio.QueueFull:
            self.drops.add(INBOUND_FULL)

    async def wait_connected(self) -> None:
        """Return once a connection is up (the birth message published, subscriptions made)."""
        await self._up.wait()

    async def publish(self, batch: Sequence[Message]) -> list[int]:
        """Calls may overlap: the next batch is handed to paho while this one awaits its PUBACKs, so the window
        never drains between batches. Messages go out in call order. A call made after the connection changed,
        while the previous call was left unconfirmed on the old one, sends nothing and returns [] (a retry must
        start from the oldest unconfirmed entry, never overtake it)."""
        if not batch:
            return []
        async with self._send_lock:
            while (conn := self._conn) is None:
                await self._up.wait()
            previous = self._previous
            if previous is not None and previous.conn is not conn and not previous.batch.complete:
                self._previous = None
                return []
            call = self._previous = _Call(conn, Batch(len(batch)))
            await self._hand_over(call, batch)
        await call.batch.done
        confirmed = call.batch.confirmed
        self.sent += len(confirmed)
        return confirmed

    async def _hand_over(self, call: _Call, batch: Sequence[Message]) -> None:
        """Give the connection the batch in slices, letting the loop run in between (QoS 0 is written at once)."""
        given = 0
        try:
            for start in range(0, len(batch), SLICE):
                if start:
                    await asyncio.sleep(0)
                chunk = batch[start : start + SLICE]
                call.conn.publish(call.batch, chunk, self.qos)
                given += len(chunk)
        finally:
            call.batch.skip(len(batch) - given)

    async def send(self, suffix: str, payload: bytes) -> bool:
        conn = self._conn
        if conn is None:
            return False
        return await conn.publish_one(self.topic(suffix), payload, qos=1, timeout=5.0)

    async def inbound(self) -> AsyncIterator[Inbound]:
        while True:
            yield await self._inbound.get()

    def stats(self) -> dict[str, object]:
        return {
            "link": "mqtt",
            "connected": self._conn is not None,
            "connects": self.connects,
            "sent": self.sent,
            "last_error": self.last_error,
            "drops": self.drops.snapshot(),
        }
