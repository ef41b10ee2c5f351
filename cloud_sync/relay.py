"""The model relay of `edge-cloud listen --zmq-bind E --relay-bind R`: model pushes ride the device's one link.

A device holds one ZeroMQ connection, its results DEALER to the listener's ROUTER (routing id: the device id).
`edge-cloud models ... --zmq R` connects a DEALER to the relay ROUTER bound on R (CURVE with the listener's
``--curve-dir``: the pusher's public key sits in ``clients/`` like a device's), and the listener carries
the traffic both ways:

* pusher to relay: ``[b"hello"]`` (on start and every second) and ``[topic, payload]`` on a push topic;
  the relay sends ``[device, b"push", topic, payload]`` on the device ROUTER, to the device the topic names,
  or, for a group topic, to every device it has heard from (a device takes only its groups' topics);
* device to pusher: the device's ``models/status`` and ``models/need`` messages (``[b"msg", b"0", topic,
  payload]`` on the results link) go to every pusher that said hello, not to the results store.

What cannot be delivered (no such peer, high-water mark) is counted in `drops`; the protocol asks again.
Signatures, hashes, canary and rollback are the device's and the pusher's business: the relay reads topics only.
"""

from __future__ import annotations

import logging
from pathlib import Path

import zmq
import zmq.asyncio

from cloud_sync._tls import LinkError
from cloud_sync.counters import Drops
from cloud_sync.curve import server_keys
from cloud_sync.models.wire import NEED, PUSH, STATUS

log = logging.getLogger("cloud_sync.relay")
HELLO = b"hello"
PUSH_FRAME = b"push"
HWM = 1000
UNROUTABLE = "relay_unroutable"  # a pusher frame that is not a push topic
PUSH_UNSENT = "relay_push_unsent"  # the device is not connected, or over its high-water mark
STATUS_UNSENT = "relay_status_unsent"


def is_model_reply(topic: str) -> bool:
    """A device's model status / need message: for the pushers, not for the results store."""
    return topic.endswith((f"/{STATUS}", f"/{NEED}"))


class ModelRelay:
    """Binds the pushers' ROUTER on `bind` and sends on `devices`, the listener's device ROUTER (same context).
    With `curve_dir`, the socket gets the server keys and the context's authenticator, which the listener
    started for its device ROUTER (`secure_server`), lets only the keys in ``clients/`` in. `run()` reads the
    pushers."""

    def __init__(
        self, context: zmq.asyncio.Context, bind: str, devices: zmq.asyncio.Socket, *,
        prefix: str = "edge", curve_dir: Path | None = None,
    ) -> None:  # fmt: skip
        self.prefix = prefix
        self.drops = Drops()
        self.devices: set[bytes] = set()  # routing ids heard from on the device ROUTER
        self.pushers: set[bytes] = set()
        self._devices = devices
        self._sock = context.socket(zmq.ROUTER)
        for option, value in ((zmq.LINGER, 0), (zmq.SNDHWM, HWM), (zmq.RCVHWM, HWM), (zmq.ROUTER_MANDATORY, 1)):
            self._sock.setsockopt(option, value)
        try:
            if curve_dir is not None:
                server_keys(self._sock, curve_dir)
            self._sock.bind(bind)
        except zmq.ZMQError as exc:
            self.close()
            raise LinkError(f"zmq bind {bind}: {exc}") from None
        except LinkError:
            self.close()
            raise

    @property
    def endpoint(self) -> str:
        return str(self._sock.getsockopt_string(zmq.LAST_ENDPOINT))

    def close(self) -> None:
        self._sock.close(0)

    def heard_from(self, device: bytes) -> None:
        self.devices.add(device)

    async def run(self) -> None:
        while True:
            frames = await self._sock.recv_multipart()
            self.pushers.add(frames[0])
            if len(frames) == 3:
                await self._to_devices(frames[1].decode(errors="replace"), frames[2])

    def _recipients(self, topic: str) -> list[bytes]:
        if not topic.endswith(f"/{PUSH}"):
            return []
        if topic.startswith(f"{self.prefix}/groups/"):
            return sorted(self.devices)
        device = topic[len(self.prefix) + 1 : -len(PUSH) - 1]
        return [device.encode()] if topic.startswith(f"{self.prefix}/") and device and "/" not in device else []

    async def _to_devices(self, topic: str, payload: bytes) -> None:
        recipients = self._recipients(topic)
        if not recipients:
            self.drops.add(UNROUTABLE)
        for device in recipients:
            try:
                await self._devices.send_multipart([device, PUSH_FRAME, topic.encode(), payload], flags=zmq.NOBLOCK)
            except zmq.ZMQError as exc:  # not connected (EHOSTUNREACH) or over the high-water mark
                self.drops.add(PUSH_UNSENT)
                if exc.errno == zmq.EHOSTUNREACH:
                    self.devices.discard(device)

    async def to_pushers(self, topic: bytes, payload: bytes) -> None:
        for pusher in sorted(self.pushers):
            try:
                await self._sock.send_multipart([pusher, topic, payload], flags=zmq.NOBLOCK)
            except zmq.ZMQError as exc:
                self.drops.add(STATUS_UNSENT)
                if exc.errno == zmq.EHOSTUNREACH:
                    self.pushers.discard(pusher)
