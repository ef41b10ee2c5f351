"""paho-mqtt's client with cheaper socket I/O per message, for a link that publishes thousands per second.

* Reads: paho reads a packet with a system call per part (its type, each byte of its length, the rest): a
  PUBACK costs about five `recv`, and `loop_read` reads as many packets as messages are in flight (a window of
  PUBACKs in one call, holding the event loop for milliseconds). Here one `recv` takes up to `READ_CHUNK` bytes
  and paho's parts are served from them; `loop_read(n)` reads at most `n` packets; `buffered` says whether read
  bytes are waiting (the socket will not signal them again).
* Writes stay paho's, a `send` per packet: gathered into one `send`, the PUBLISHes of a small batch reach a
  broker that keeps Nagle's algorithm on (mosquitto's default) as one segment, and its PUBACKs after the first
  then wait for this side's delayed ACK (~40 ms): a confirmation that late keeps results in the outbox.
* A PUBACK of MQTT 3.1.1 settles its message without building the reason code and properties objects of MQTT 5.

Only private members that paho 2.x has kept stable are touched (`_sock_recv`, `_packet_read`,
`_handle_pubackcomp`, `_do_on_publish`, `_loop_rc_handle`); the protocol and the session state stay paho's.
"""

from __future__ import annotations

import socket
from typing import Any, Literal

import paho.mqtt.client as paho
from paho.mqtt.enums import MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

READ_CHUNK = 65536
_OK = MQTTErrorCode.MQTT_ERR_SUCCESS
_PUBACK_OK = ReasonCode(PacketTypes.PUBACK)  # what paho hands `on_publish` for a 3.1.1 PUBACK (success, none)
_NO_PROPERTIES = Properties(PacketTypes.PUBACK)  # type: ignore[no-untyped-call]  # paho leaves it untyped


class Client(paho.Client):
    """A `paho.Client` whose reads are buffered (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._read_buf = b""
        self._read_pos = 0
        self._read_sock: socket.socket | Any = None  # the socket the buffer was read from
        self._drained = False  # this `loop_read` has emptied the socket: another recv would only fail

    @property
    def buffered(self) -> bool:
        """Bytes already read from the current socket wait to be parsed (call `loop_read` again)."""
        return self._read_pos < len(self._read_buf) and self._read_sock is self._sock

    def _sock_recv(self, bufsize: int) -> bytes:
        if not self.buffered:
            if self._drained:
                raise BlockingIOError  # the socket signals again when more arrives (saves a failing recv)
            data: bytes = super()._sock_recv(max(bufsize, READ_CHUNK))
            self._drained = len(data) < READ_CHUNK
            if len(data) <= bufsize:
                return data
            self._read_buf, self._read_pos, self._read_sock = data, 0, self._sock
        start = self._read_pos
        self._read_pos = end = min(start + bufsize, len(self._read_buf))
        return self._read_buf[start:end]

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        """Read at most `max_packets` packets (paho reads as many as messages are in flight, whatever is asked)."""
        self._drained = False
        for _ in range(max(max_packets, 1)):
            if self._sock is None:
                return MQTTErrorCode.MQTT_ERR_NO_CONN
            rc = self._packet_read()
            if rc == MQTTErrorCode.MQTT_ERR_AGAIN:
                break
            if rc != _OK:
                result: MQTTErrorCode = self._loop_rc_handle(rc)
                return result
        return _OK

    def _handle_pubackcomp(self, cmd: Literal["PUBACK", "PUBCOMP"]) -> MQTTErrorCode:
        packet = self._in_packet["packet"]
        if cmd != "PUBACK" or self._protocol == MQTTProtocolVersion.MQTTv5 or len(packet) != 2 or self.on_publish:
            result: MQTTErrorCode = super()._handle_pubackcomp(cmd)
            return result
        mid = (packet[0] << 8) | packet[1]
        with self._out_message_mutex:
            if mid in self._out_messages:
                done: MQTTErrorCode = self._do_on_publish(mid, _PUBACK_OK, _NO_PROPERTIES)
                return done
        return _OK
