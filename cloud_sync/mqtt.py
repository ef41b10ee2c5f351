"""MQTT transport: our own reconnect loop, birth/LWT status, batches pipelined through one paho client.

This is the device's one connection to the broker: results, events, stats, the status topic and model-push
traffic all travel on it (`subscribe` adds a topic filter with a handler, made again on every reconnect).
Every connection publishes ``online`` (retained, QoS 1) on ``<prefix>/<device>/status`` and registers ``offline``
(retained) as its Last Will; a clean stop publishes ``offline`` itself (`status=False`, for a cloud-side client,
leaves the status topic alone). A batch is handed to paho whole (in
slices, so the event loop is never held for long); paho keeps `max_inflight` publishes awaiting their PUBACK and
writes the rest as PUBACKs arrive, in order. The connection itself is `cloud_sync._mqtt_client.Connection`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import paho.mqtt.client as paho

from cloud_sync._mqtt_client import Batch, Connection, Incoming, LinkDown, connect, keep_connected, new_client
from cloud_sync._tls import describe, ssl_context
from cloud_sync.backoff import Backoff
from cloud_sync.config import MqttConfig
from cloud_sync.counters import Drops
from cloud_sync.envelope import Inbound, Message, device_topic
from cloud_sync.inbound import Handler, Subscriptions

__all__ = ["Connection", "Incoming", "LinkDown", "MqttTransport", "connect", "keep_connected", "new_client"]
log = logging.getLogger("cloud_sync.mqtt")
ONLINE = b"online"
OFFLINE = b"offline"
SLICE = 16  # messages handed to paho between two turns of the event loop (~25 us each)


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
        status: bool = True,
        client_id: str | None = None,
    ) -> None:
        self.config = config
        self.device = device
        self.prefix = prefix
        self.qos = qos
        self.max_inflight = max_inflight
        self.status = status
        self.client_id = client_id or config.client_id or f"edge-{device}"
        self.drops = Drops()
        self.subscriptions = Subscriptions(self.drops)
        self.last_error: str | None = None
        self.connects = 0
        self.sent = 0
        self._conn: Connection | None = None
        self._send_lock = asyncio.Lock()
        self._previous: _Call | None = None
        self._up = asyncio.Event()
        self._backoff = Backoff(config.backoff_initial, config.backoff_max)

    def topic(self, suffix: str) -> str:
        return device_topic(self.prefix, self.device, suffix)

    def client(self) -> paho.Client:
        """A configured, unconnected paho client (TLS, credentials, Last Will)."""
        cfg = self.config
        client = new_client(self.client_id)
        if cfg.username is not None:
            client.username_pw_set(cfg.username, cfg.password)
        if cfg.tls is not None:
            client.tls_set_context(ssl_context(cfg.tls))
        if self.status:
            client.will_set(self.topic("status"), OFFLINE, qos=1, retain=True)
        return client

    def subscribe(self, topic_filter: str, handler: Handler) -> None:
        """Call `handler` (on the loop, must not block) for each message matching `topic_filter`, from now on
        and after every reconnect."""
        self.subscriptions.add(topic_filter, handler)
        conn = self._conn
        if conn is not None:
            conn.request_subscription(topic_filter, qos=1).add_done_callback(self._subscribed)

    def _subscribed(self, future: asyncio.Future[None]) -> None:
        if not future.cancelled() and (exc := future.exception()) is not None:
            log.warning("mqtt %s:%s: %s", self.config.host, self.config.port, exc)

    @property
    def connected(self) -> bool:
        return self._conn is not None

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
        async with connect(self.client(), cfg.host, cfg.port, cfg.keepalive, window=self.max_inflight,
                           on_message=self._deliver) as conn:  # fmt: skip
            try:
                await self._serve(conn)
            except asyncio.CancelledError:
                if self.status and not conn.lost:  # a clean stop says so itself (no Last Will then)
                    await conn.publish_one(self.topic("status"), OFFLINE, qos=1, retain=True, timeout=2.0)
                raise
            finally:
                self._up.clear()
                self._conn = None

    async def _serve(self, conn: Connection) -> None:
        """Birth message, subscriptions, then up until the connection drops."""
        if self.status and not await conn.publish_one(self.topic("status"), ONLINE, qos=1, retain=True):
            raise LinkDown("the birth message was not acknowledged")
        for topic_filter in self.subscriptions.filters():
            await conn.subscribe(topic_filter, qos=1)
        self._conn, self.last_error = conn, None
        self.connects += 1
        self._backoff.reset()
        self._up.set()
        log.info("mqtt %s:%s: connected", self.config.host, self.config.port)
        await conn.wait_lost()

    def _deliver(self, message: Incoming) -> None:
        self.subscriptions.dispatch(Inbound(message.topic, message.payload))

    async def wait_connected(self) -> None:
        """Return once a connection is up (the birth message published, subscriptions made)."""
        await self._up.wait()

    async def connected_within(self, timeout: float) -> bool:
        """`wait_connected` for at most `timeout` s: False when the link is still down then."""
        try:
            await asyncio.wait_for(self._up.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def publish(self, batch: Sequence[Message], *, follows: bool = False) -> list[int]:
        """Calls may overlap: the next batch is handed to paho while this one awaits its PUBACKs, so the window
        never drains between batches. Messages go out in call order.

        `follows`: this batch continues the previous call (fetched while it was in flight). It goes out only on
        the same connection as the previous call and only if that call has not ended short; otherwise it sends
        nothing and returns [] (the caller retries from its oldest unconfirmed entry, which is sent with
        `follows=False` on whatever connection is up: a newer batch never overtakes an older one)."""
        if not batch:
            return []
        async with self._send_lock:
            previous = self._previous
            if follows and (previous is None or previous.conn is not self._conn or previous.batch.short):
                return []
            while (conn := self._conn) is None:
                await self._up.wait()
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
        """Best effort, QoS 1: publish on ``<prefix>/<device>/<suffix>``; False when down or not confirmed."""
        return await self.send_to(self.topic(suffix), payload)

    async def send_to(self, topic: str, payload: bytes, timeout: float = 5.0, *, retain: bool = False) -> bool:
        """Best effort, QoS 1, on any topic (a cloud-side client publishing to a device; Home Assistant's
        discovery and state topics, retained)."""
        conn = self._conn
        if conn is None:
            return False
        return await conn.publish_one(topic, payload, qos=1, retain=retain, timeout=timeout)

    def stats(self) -> dict[str, object]:
        return {
            "link": "mqtt",
            "connected": self._conn is not None,
            "connects": self.connects,
            "sent": self.sent,
            "last_error": self.last_error,
            "drops": self.drops.snapshot(),
        }
