"""One MQTT connection driven by the asyncio loop: paho-mqtt 2.x does the protocol, the loop does the I/O.

Only paho's external-loop API is used: the socket is watched with `add_reader` / `add_writer` (`loop_read`,
`loop_write`), and a named task calls `loop_misc` every second (keepalive). All of it runs on the loop's
thread; the blocking part of connecting (TCP, TLS handshake) runs in the default executor before any callback
is installed. Publishing a batch costs one `paho.Client.publish` per message and one wake-up of the caller when
the batch is settled: its last message confirmed (QoS 1: PUBACK; QoS 0: written to the socket), or the
connection lost (the batch then holds what was confirmed before). Confirmations are read from the
`MQTTMessageInfo` paho returns, after each read or write: no `on_publish` callback, so paho builds no reason
code and properties objects per written QoS 0 message.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, NamedTuple, NoReturn

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from cloud_sync._paho import Client
from cloud_sync.backoff import Backoff
from cloud_sync.bridge import wait_settled
from cloud_sync.envelope import Message

_OK = MQTTErrorCode.MQTT_ERR_SUCCESS
_GONE = MQTTErrorCode.MQTT_ERR_NO_CONN
_ROUND_TRIP_FILTER = "$edge-runtime/round-trip"  # never subscribed: unsubscribing it only asks for an answer
SILENCE_FACTOR = 1.5  # a connection that hears nothing for this many keepalives is lost
# Packets parsed per turn of the event loop (a PUBACK costs ~25 us): what is left waits for the next turn, so a
# window of PUBACKs never holds the loop for milliseconds (a frame's wake-up runs in between).
READ_PACKETS = 16


class Incoming(NamedTuple):
    """A message from the broker; `mid` and `qos` are what `Connection.ack` takes (manual acknowledgement)."""

    topic: str
    payload: bytes
    mid: int
    qos: int


OnMessage = Callable[[Incoming], None]


class LinkDown(Exception):
    """The connection could not be made or was lost; the text is one line for the log."""


async def keep_connected(
    session: Callable[[], Awaitable[None]],
    backoff: Backoff,
    down: Callable[[str, float], None],
    retrying: Callable[[], None] | None = None,
) -> NoReturn:
    """Run `session` again each time it ends (`connection closed`) or raises LinkDown, `backoff` apart: `down(error,
    delay)` is told before the wait, `retrying()` after it. A session that got connected resets `backoff` itself.
    Until cancelled."""
    while True:
        try:
            await session()
            error = "connection closed"
        except LinkDown as exc:
            error = str(exc)
        delay = backoff.next()
        down(error, delay)
        await asyncio.sleep(delay)
        if retrying is not None:
            retrying()


def new_client(client_id: str = "", *, clean_session: bool = True, manual_ack: bool = False) -> paho.Client:
    """A paho client for one connection: MQTT 3.1.1, no reconnect and no window of its own.

    With `manual_ack`, a received QoS 1 / 2 message is acknowledged only by `Connection.ack`."""
    client = Client(
        CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
        reconnect_on_failure=False,
        manual_ack=manual_ack,
    )
    client.max_inflight_messages_set(0)  # `Connection` keeps the window
    return client


class Batch:
    """Messages of one publish call: the ids confirmed so far; `done` resolves once all are settled."""

    __slots__ = ("confirmed", "done", "remaining", "size")

    def __init__(self, size: int) -> None:
        self.size = size
        self.confirmed: list[int] = []
        self.remaining = size
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if size <= 0:
            self.done.set_result(None)

    @property
    def short(self) -> bool:
        """Settled with part of it unconfirmed (the connection was lost, or a publish refused)."""
        return self.done.done() and len(self.confirmed) < self.size

    def settle(self, msg_id: int, ok: bool) -> None:
        if ok:
            self.confirmed.append(msg_id)
        self.remaining -= 1
        if self.remaining == 0 and not self.done.done():
            self.done.set_result(None)

    def skip(self, n: int) -> None:
        """`n` messages of the batch will not be sent."""
        self.remaining -= n
        if self.remaining <= 0 and not self.done.done():
            self.done.set_result(None)

    def abandon(self) -> None:
        """The connection is gone: what is not confirmed now never will be on it."""
        if not self.done.done():
            self.done.set_result(None)


@contextlib.asynccontextmanager
async def connect(
    client: paho.Client, host: str, port: int, keepalive: int, *, window: int = 64, on_message: OnMessage | None = None
) -> AsyncIterator[Connection]:
    """``async with connect(...) as conn``: connected on entry (LinkDown if not); on exit a clean DISCONNECT when
    the body ended or was cancelled, an abort when it failed (the broker then publishes the Last Will)."""
    conn = await Connection.open(client, host, port, keepalive, window=window, on_message=on_message)
    try:
        yield conn
    except Exception:
        conn.abort()
        raise
    finally:
        if not conn.lost:
            await conn.close()
        conn.abort()


class Connection:
    """A connected paho client. `open()` connects; `wait_lost()` returns (raising LinkDown) when it drops."""

    def __init__(self, client: paho.Client, window: int, on_message: OnMessage | None, keepalive: float) -> None:
        self._client = client
        self.window = window
        self.keepalive = keepalive
        self._heard = time.monotonic()  # when the broker last sent anything
        self._queue: deque[tuple[Batch, Message, int]] = deque()  # waiting for room in the window
        self._outstanding = 0
        self._loop = asyncio.get_running_loop()
        self._on_message = on_message
        # published to paho, not yet settled, in publish order: (paho's ticket, batch, outbox id, windowed)
        self._flight: deque[tuple[paho.MQTTMessageInfo, Batch, int, bool]] = deque()
        self._subacks: dict[int, asyncio.Future[None]] = {}
        self._connack: asyncio.Future[None] = self._loop.create_future()
        self._lost: asyncio.Future[None] = self._loop.create_future()
        self._fileno = -1
        self._paused = False
        self._tls = False
        self._keepalive: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        client: paho.Client,
        host: str,
        port: int,
        keepalive: int,
        *,
        window: int = 64,
        timeout: float = 10.0,
        on_message: OnMessage | None = None,
    ) -> Connection:
        """Connect `client` (configured: TLS, credentials, will) and wait for the broker's CONNACK.

        At most `window` publishes of `publish` (QoS 1 and 2) await their acknowledgement at once.
        """
        conn = cls(client, window, on_message, keepalive)
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, client.connect, host, port, keepalive)
        except (OSError, ValueError) as exc:
            raise LinkDown(_text(exc)) from None
        conn._attach()
        try:
            if not await wait_settled(conn._connack, timeout):
                raise LinkDown(f"no CONNACK within {timeout:g} s")
            conn._connack.result()  # a refused connection raises its LinkDown
        except BaseException:
            conn.abort()
            raise
        return conn

    def _attach(self) -> None:
        client = self._client
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_unsubscribe = self._on_unsubscribe
        client.on_message = self._on_message_cb
        client.on_socket_close = self._on_socket_close
        client.on_socket_register_write = self._on_register_write
        client.on_socket_unregister_write = self._on_unregister_write
        sock = client.socket()
        if sock is None:
            self._lose("the socket closed while connecting")
            return
        self._fileno = sock.fileno()
        self._tls = isinstance(sock, ssl.SSLSocket)
        self._loop.add_reader(self._fileno, self._readable)
        self._keepalive = self._loop.create_task(self._misc(), name="mqtt-keepalive")
        if client.want_write():  # CONNECT not fully written by connect(): finish on the loop
            self._writable()

    # -- publishing ------------------------------------------------------------------------------------------

    def publish(self, batch: Batch, messages: Sequence[Message], qos: int) -> None:
        """Queue `messages` for sending, settling into `batch` (sized for them, possibly over several calls).

        QoS 0 goes to paho at once. QoS 1 and 2 wait in our queue while `window` publishes await their
        acknowledgement (paho's own window is off: it would rescan its in-flight list on every PUBACK).
        """
        if self._lost.done():
            batch.skip(len(messages))
        elif qos == 0:
            for index, msg in enumerate(messages):
                if not self._send(batch, msg, 0, False, windowed=False):
                    batch.skip(len(messages) - index - 1)
                    return
        else:
            self._queue.extend([(batch, msg, qos) for msg in messages])
            self._pump()

    def _pump(self) -> None:
        queue, send = self._queue, self._send
        while queue and self._outstanding < self.window:
            batch, msg, qos = queue.popleft()
            self._outstanding += 1
            if not send(batch, msg, qos, False, windowed=True):
                return

    def _send(self, batch: Batch, msg: Message, qos: int, retain: bool, *, windowed: bool) -> bool:
        info = self._client.publish(msg.topic, msg.payload, qos, retain)
        if info.rc != _OK:
            batch.skip(1)
            self._lose(f"publish refused: {paho.error_string(info.rc)}")
            return False
        self._flight.append((info, batch, msg.id, windowed))
        return True

    def _harvest(self) -> None:
        """Settle what paho has confirmed since the last look (in order: a broker PUBACKs QoS 1 in order)."""
        flight = self._flight
        freed = 0
        while flight and flight[0][0].is_published():
            _, batch, msg_id, windowed = flight.popleft()
            batch.settle(msg_id, True)
            freed += windowed
        if freed:
            self._outstanding -= freed
            self._pump()

    async def publish_one(
        self, topic: str, payload: bytes, qos: int = 1, retain: bool = False, timeout: float = 10.0
    ) -> bool:
        """Publish outside the window and wait for its confirmation; False when not confirmed in `timeout`."""
        batch = Batch(1)
        if self._lost.done() or not self._send(batch, Message(1, topic, payload), qos, retain, windowed=False):
            return False
        await wait_settled(batch.done, timeout)
        return batch.confirmed == [1]

    async def subscribe(self, topic: str, qos: int = 1, timeout: float = 10.0) -> None:
        """Subscribe and wait for the SUBACK (LinkDown when refused or not answered in `timeout`)."""
        future = self.request_subscription(topic, qos)
        if not await wait_settled(future, timeout):
            raise LinkDown(f"subscribe {topic}: no SUBACK within {timeout:g} s")
        future.result()  # a refused subscription raises its LinkDown

    def _round_trip(self) -> asyncio.Future[None]:
        """UNSUBSCRIBE a filter nobody subscribes; the future settles with the UNSUBACK (or LinkDown)."""
        future: asyncio.Future[None] = self._loop.create_future()
        rc, mid = (_GONE, None) if self._lost.done() else self._client.unsubscribe(_ROUND_TRIP_FILTER)
        if rc != _OK or mid is None:
            future.set_exception(LinkDown(f"round trip: {paho.error_string(rc)}"))
            future.exception()
        else:
            self._subacks[mid] = future
            future.add_done_callback(lambda _: self._subacks.pop(mid, None))
        return future

    def request_subscription(self, topic: str, qos: int = 1) -> asyncio.Future[None]:
        """Send SUBSCRIBE without waiting; the future settles with the SUBACK (or LinkDown)."""
        future: asyncio.Future[None] = self._loop.create_future()
        rc, mid = self._client.subscribe(topic, qos)
        if rc != _OK or mid is None:
            future.set_exception(LinkDown(f"subscribe {topic}: {paho.error_string(rc)}"))
        else:
            self._subacks[mid] = future
            future.add_done_callback(lambda _: self._subacks.pop(mid, None))
        return future

    def ack(self, mid: int, qos: int) -> None:
        """Acknowledge a received message (clients made with `manual_ack`); a lost connection ignores it."""
        if qos > 0 and not self._lost.done():
            self._client.ack(mid, qos)

    def pause_reading(self) -> None:
        """Stop reading the socket (flow control: the reader is behind); the broker holds what follows."""
        if self._fileno >= 0 and not self._paused:
            self._loop.remove_reader(self._fileno)
            self._paused = True

    def resume_reading(self) -> None:
        if self._fileno >= 0 and self._paused:
            self._paused = False
            self._heard = time.monotonic()  # the silence was ours
            self._loop.add_reader(self._fileno, self._readable)
            if self._unread():
                self._loop.call_soon(self._readable)

    # -- lifetime ----------------------------------------------------------------------------------------------

    async def wait_lost(self) -> None:
        """Wait until the connection drops; raises LinkDown with the reason."""
        await asyncio.shield(self._lost)

    @property
    def lost(self) -> bool:
        return self._lost.done()

    async def close(self, timeout: float = 2.0) -> None:
        """A clean DISCONNECT (the broker then keeps the Last Will to itself), then release everything.

        First a round trip: the broker answers packets in order, so once it has answered, it has processed
        everything sent before (acknowledgements of received messages included). Without it, a client that comes
        back at once under the same id can take the session over before the broker read the last PUBACKs, and
        the broker sends those messages again."""
        await wait_settled(self._round_trip(), timeout)  # a lost link settles it too (its LinkDown is retrieved)
        if not self._lost.done() and self._client.disconnect() == _OK:
            await wait_settled(self._lost, timeout)
        self.abort()

    def abort(self) -> None:
        """Drop the connection at once (no DISCONNECT: the broker publishes the Last Will)."""
        self._lose("closed")
        sock = self._client.socket()
        if sock is not None:
            self._on_socket_close(self._client, None, sock)
            sock.close()
        if self._keepalive is not None:
            self._keepalive.cancel()

    def _lose(self, reason: str) -> None:
        if self._lost.done():
            return
        self._lost.set_exception(LinkDown(reason))
        self._lost.exception()  # retrieved: a connection nobody waits on is not an error
        if not self._connack.done():
            self._connack.set_exception(LinkDown(reason))
            self._connack.exception()
        for info, batch, msg_id, _ in self._flight:
            if info.is_published():  # confirmed out of order, or written (QoS 0) before the loss
                batch.settle(msg_id, True)
            batch.abandon()
        for batch, _, _ in self._queue:
            batch.abandon()
        self._flight.clear()
        self._queue.clear()
        for future in self._subacks.values():
            if not future.done():
                future.set_exception(LinkDown(reason))
                future.exception()

    # -- I/O driven by the loop ----------------------------------------------------------------------------

    def _readable(self) -> None:
        """Parse up to READ_PACKETS packets; what is left (read bytes, or TLS's decrypted ones, which the socket
        will not signal again) is parsed on the next turn of the loop."""
        if self._paused or self._lost.done():
            return
        client = self._client
        self._heard = time.monotonic()
        rc = client.loop_read(READ_PACKETS)
        if rc != _OK:
            self._lose(f"connection lost ({paho.error_string(rc)})")
            return
        self._harvest()
        if self._unread():
            self._loop.call_soon(self._readable)

    def _unread(self) -> bool:
        client = self._client
        if isinstance(client, Client) and client.buffered:
            return True
        sock = client.socket()
        return self._tls and isinstance(sock, ssl.SSLSocket) and sock.pending() > 0

    def _writable(self) -> None:
        rc = self._client.loop_write()
        if rc != _OK:
            self._lose(f"connection lost ({paho.error_string(rc)})")
        else:
            self._harvest()

    async def _misc(self) -> None:
        """Keepalive: paho pings when the link is quiet; a broker silent for SILENCE_FACTOR keepalives is lost
        (a blackholed link, sockets still open, is noticed within 1.5 x keepalive rather than paho's 2 x)."""
        limit = SILENCE_FACTOR * self.keepalive
        tick = min(1.0, self.keepalive / 4)
        while True:
            silent = time.monotonic() - self._heard
            if silent >= limit:
                self._lose(f"keepalive: nothing from the broker for {silent:.1f} s")
                return
            await asyncio.sleep(min(tick, limit - silent))
            if self._client.loop_misc() != _OK:
                self._lose("keepalive: no answer from the broker")
                return

    # -- paho callbacks (on the loop's thread) ---------------------------------------------------------------

    def _on_connect(self, _c: paho.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any = None) -> None:
        if self._connack.done():
            return
        if reason.is_failure:
            self._lose(f"connection refused: {reason}")
        else:
            self._connack.set_result(None)

    def _on_disconnect(self, _c: paho.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any = None) -> None:
        self._lose(f"connection lost ({reason})")

    def _on_subscribe(self, _c: paho.Client, _u: Any, mid: int, reasons: list[ReasonCode], _p: Any) -> None:
        future = self._subacks.get(mid)
        if future is None or future.done():
            return
        if any(r.is_failure for r in reasons):
            future.set_exception(LinkDown(f"subscription refused: {', '.join(map(str, reasons))}"))
        else:
            future.set_result(None)

    def _on_unsubscribe(self, _c: paho.Client, _u: Any, mid: int, _reasons: Any, _p: Any) -> None:
        future = self._subacks.get(mid)
        if future is not None and not future.done():
            future.set_result(None)

    def _on_message_cb(self, _c: paho.Client, _u: Any, message: paho.MQTTMessage) -> None:
        if self._on_message is not None:
            self._on_message(Incoming(message.topic, bytes(message.payload), message.mid, message.qos))

    def _on_socket_close(self, _c: paho.Client, _u: Any, _sock: Any) -> None:
        if self._fileno >= 0:
            self._loop.remove_reader(self._fileno)
            self._loop.remove_writer(self._fileno)
            self._fileno = -1

    def _on_register_write(self, _c: paho.Client, _u: Any, _sock: Any) -> None:
        if self._fileno >= 0:
            self._loop.add_writer(self._fileno, self._writable)

    def _on_unregister_write(self, _c: paho.Client, _u: Any, _sock: Any) -> None:
        if self._fileno >= 0:
            self._loop.remove_writer(self._fileno)


def _text(exc: BaseException) -> str:
    return " ".join((str(exc) or type(exc).__name__).split())
