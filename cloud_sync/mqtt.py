"""MQTT transport (aiomqtt): our own reconnect loop, birth/LWT status, pipelined QoS 1 publishes.

Every connection publishes ``online`` (retained, QoS 1) on ``<prefix>/<device>/status`` and registers ``offline``
(retained) as its Last Will; a clean stop publishes ``offline`` itself. A batch is sent by up to `max_inflight`
concurrent publishes, so QoS 1 is not paced by round trips; paho writes them in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Sequence

import aiomqtt

from cloud_sync._tls import describe, ssl_context
from cloud_sync.backoff import Backoff
from cloud_sync.config import MqttConfig
from cloud_sync.counters import INBOUND_FULL, Drops
from cloud_sync.envelope import Inbound, Message, device_topic

log = logging.getLogger("cloud_sync.mqtt")
ONLINE = b"online"
OFFLINE = b"offline"


class _Batch:
    """The messages of one `publish` call: which were confirmed, and whether all have been dealt with."""

    def __init__(self, size: int) -> None:
        self.confirmed: list[int] = []
        self.remaining = size
        self.done = asyncio.Event()

    def settle(self, msg_id: int, ok: bool) -> None:
        if ok:
            self.confirmed.append(msg_id)
        self.remaining -= 1
        if self.remaining <= 0:
            self.done.set()


class _Session:
    """One live connection: `max_inflight` publishers take messages from one FIFO queue, so paho writes them in
    submission order and up to `max_inflight` await their PUBACK at once, across batch boundaries."""

    def __init__(self, client: aiomqtt.Client, max_inflight: int, qos: int) -> None:
        self.client = client
        self.qos = qos
        self.lost = asyncio.Event()
        self._queue: asyncio.Queue[tuple[Message, _Batch]] = asyncio.Queue()
        self._open: set[_Batch] = set()
        self._workers = [asyncio.ensure_future(self._publisher()) for _ in range(max_inflight)]

    def submit(self, messages: Sequence[Message]) -> _Batch:
        batch = _Batch(len(messages))
        self._open.add(batch)
        if not messages:
            batch.done.set()
        for msg in messages:
            self._queue.put_nowait((msg, batch))
        return batch

    async def _publisher(self) -> None:
        while True:
            msg, batch = await self._queue.get()
            ok = False
            if not self.lost.is_set():
                try:
                    await self.client.publish(msg.topic, msg.payload, qos=self.qos, timeout=math.inf)
                    ok = True
                except aiomqtt.MqttError:
                    self.lost.set()  # nothing after a failure may be sent on this connection: order would break
            batch.settle(msg.id, ok)
            if batch.done.is_set():
                self._open.discard(batch)

    def end(self) -> None:
        """The connection is gone: pending publishes will never be confirmed; their calls return now."""
        self.lost.set()
        for worker in self._workers:
            worker.cancel()
        for batch in self._open:
            batch.done.set()
        self._open.clear()


class _Call:
    """One `publish` call: the session it sent on, and whether it has finished."""

    def __init__(self, session: _Session) -> None:
        self.session = session
        self.done = asyncio.Event()


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
        subscribe: Sequence[str] = ("models/push",),
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
        self._session: _Session | None = None
        self._send_lock = asyncio.Lock()
        self._previous: _Call | None = None
        self._up = asyncio.Event()
        self._inbound: asyncio.Queue[Inbound] = asyncio.Queue(maxsize=inbound_size)
        self._backoff = Backoff(config.backoff_initial, config.backoff_max)

    def topic(self, suffix: str) -> str:
        return device_topic(self.prefix, self.device, suffix)

    def client(self) -> aiomqtt.Client:
        """A configured, unconnected client (TLS, credentials, Last Will)."""
        cfg = self.config
        client = aiomqtt.Client(
            cfg.host,
            cfg.port,
            identifier=cfg.client_id or f"edge-{self.device}",
            username=cfg.username,
            password=cfg.password,
            will=aiomqtt.Will(self.topic("status"), OFFLINE, qos=1, retain=True),
            keepalive=cfg.keepalive,
            timeout=10.0,
            tls_context=ssl_context(cfg.tls) if cfg.tls is not None else None,
            max_inflight_messages=self.max_inflight,
        )
        client.pending_calls_threshold = self.max_inflight + 16  # many pending publishes is the point here
        return client

    async def run(self) -> None:
        where = f"mqtt {self.config.host}:{self.config.port}"
        while True:
            try:
                await self._connected_session()
            except aiomqtt.MqttError as exc:
                message = describe(exc)
                if message != self.last_error:
                    log.warning("%s: %s (reconnecting with backoff)", where, message)
                self.last_error = message
            await asyncio.sleep(self._backoff.next())

    async def _connected_session(self) -> None:
        async with self.client() as client:
            await client.publish(self.topic("status"), ONLINE, qos=1, retain=True)
            for suffix in self.subscriptions:
                await client.subscribe(self.topic(suffix), qos=1)
            session = _Session(client, self.max_inflight, self.qos)
            self._session, self.last_error = session, None
            self.connects += 1
            self._backoff.reset()
            self._up.set()
            log.info("mqtt %s:%s: connected", self.config.host, self.config.port)
            try:
                async for message in client.messages:
                    self._deliver(str(message.topic), message.payload)
            except asyncio.CancelledError:
                await self._say_offline(client)
                raise
            finally:
                self._up.clear()
                self._session = None
                session.end()

    async def _say_offline(self, client: aiomqtt.Client) -> None:
        with contextlib.suppress(aiomqtt.MqttError, asyncio.TimeoutError):
            await asyncio.wait_for(client.publish(self.topic("status"), OFFLINE, qos=1, retain=True), 2.0)

    def _deliver(self, topic: str, payload: object) -> None:
        data = payload if isinstance(payload, bytes) else str(payload or "").encode()
        try:
            self._inbound.put_nowait(Inbound(topic, data))
        except asyncio.QueueFull:
            self.drops.add(INBOUND_FULL)

    async def wait_connected(self) -> None:
        """Return once a connection is up (the birth message published, subscriptions made)."""
        await self._up.wait()

    async def publish(self, batch: Sequence[Message]) -> list[int]:
        """Calls may overlap: the next batch is issued while this one awaits its PUBACKs, so the window never
        drains between batches. Messages go out in call order; a call never sends on a newer connection while an
        earlier call is still waiting on an older one (a retry must not overtake what it retries)."""
        if not batch:
            return []
        async with self._send_lock:
            while (session := self._session) is None:
                await self._up.wait()
            previous = self._previous
            if previous is not None and previous.session is not session:
                await previous.done.wait()
            call = self._previous = _Call(session)
            submitted = session.submit(batch)
        try:
            await submitted.done.wait()
        finally:
            call.done.set()
        confirmed = list(submitted.confirmed)
        self.sent += len(confirmed)
        return confirmed

    async def send(self, suffix: str, payload: bytes) -> bool:
        session = self._session
        if session is None:
            return False
        try:
            await session.client.publish(self.topic(suffix), payload, qos=1, timeout=5.0)
        except aiomqtt.MqttError:
            return False
        return True

    async def inbound(self) -> AsyncIterator[Inbound]:
        while True:
            yield await self._inbound.get()

    def stats(self) -> dict[str, object]:
        return {
            "link": "mqtt",
            "connected": self._session is not None,
            "connects": self.connects,
            "sent": self.sent,
            "last_error": self.last_error,
            "drops": self.drops.snapshot(),
        }
