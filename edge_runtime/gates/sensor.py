"""The `sensor` gate: frames go to `infer` only for `hold` seconds after a sensor said something is there.

It opens on an MQTT message (a PIR's `ON`, or a JSON field above a threshold) or on a result of another stream
(its events, say a door sensor's `change`). Closed frames end as `gated`. The MQTT subscription runs for the
runtime's lifetime (`run`), reconnecting with a jittered backoff; a malformed message is logged and ignored.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr, model_validator

from cloud_sync.backoff import Backoff
from cloud_sync.config import Duration
from cloud_sync.envelope import Envelope
from cloud_sync.logs import RateLimitedLog
from edge_runtime.frames import Frame
from edge_runtime.gates._base import Gate
from edge_runtime.sections import StrictModel
from edge_runtime.sinks._base import Sink
from edge_runtime.sources._payload import BadMessage, parse_values

if TYPE_CHECKING:
    from cloud_sync.mqtt import Incoming

log = logging.getLogger("edge_runtime.gates")

MAX_MESSAGE_BYTES = 4096  # a sensor says little: a longer message is ignored unread


class SensorMqttConfig(StrictModel):
    """The MQTT topic a sensor publishes on, and what in a message opens the gate."""

    host: str = Field("localhost", min_length=1, description="broker host name or address")
    port: int = Field(1883, ge=1, le=65535, description="broker port")
    topic: str = Field(min_length=1, description="topic (or filter) the sensor publishes on")
    username: str | None = Field(None, description="user name, if the broker wants one")
    password: SecretStr | None = Field(None, description="password (use ${env:NAME} rather than writing it here)")
    payload_on: list[str] = Field(["ON"], description="messages that open the gate (exact text), e.g. a PIR's ON")
    field: str | None = Field(None, description="or: a numeric JSON field (dotted for nested) that opens it...")
    above: float = Field(0.0, description="...when above this value")
    backoff_max: float = Field(30.0, gt=0, description="cap of the reconnect delay (s)")
    keepalive: int = Field(30, ge=2, le=65535, description="MQTT keepalive (s)")


class SensorGateConfig(StrictModel):
    """Open for `hold` after a message on `mqtt.topic`, or after a result of the stream `stream`."""

    type: Literal["sensor"]
    name: str = Field("sensor", description="Unique name of this stage within the pipeline.")
    hold: Duration = Field(10.0, gt=0, description="How long the gate stays open after the sensor fired (e.g. 30s).")
    mqtt: SensorMqttConfig | None = Field(None, description="Open on messages of an MQTT topic.")
    stream: str | None = Field(None, description="Open on results of this other stream (e.g. its events).")
    kinds: list[str] | None = Field(None, description="With `stream`: only results of these kinds (default: any).")

    @model_validator(mode="after")
    def _one_trigger(self) -> SensorGateConfig:
        if (self.mqtt is None) == (self.stream is None):
            raise ValueError("give one trigger: `mqtt:` (a topic) or `stream:` (another stream's results)")
        if self.kinds is not None and self.stream is None:
            raise ValueError("`kinds` goes with `stream`")
        return self


class SensorGate(Gate):
    def __init__(self, config: SensorGateConfig, stream: str) -> None:
        super().__init__(config.name, stream)
        self.config = config
        self._open_until = -1.0  # monotonic; a float assignment, so the loop and the gate thread may share it
        self._quiet = RateLimitedLog(log)

    def opens(self, frame: Frame, now: float) -> bool:
        del frame
        return now < self._open_until

    def fire(self, why: str) -> None:
        """The sensor saw something: open (or keep open) for `hold` from now."""
        if time.monotonic() >= self._open_until:
            log.info("stream %r gate %r: open for %.1f s (%s)", self.stream, self.name, self.config.hold, why)
        self._open_until = time.monotonic() + self.config.hold

    def on_message(self, topic: str, raw: bytes) -> None:
        mqtt = self.config.mqtt
        assert mqtt is not None
        if len(raw) > MAX_MESSAGE_BYTES:
            text = f"stream {self.stream!r} gate {self.name!r}: {len(raw)}-byte message on {topic!r} ignored"
            self._quiet.warning("too_big", text)
            return
        if mqtt.field is None:
            if raw.decode("utf-8", "replace").strip() in mqtt.payload_on:
                self.fire(f"{topic!r}")
            return
        try:
            values = parse_values(raw, "json", mqtt.field)
        except BadMessage as exc:
            where = f"stream {self.stream!r} gate {self.name!r}"
            self._quiet.warning("bad_message", f"{where}: bad message on {topic!r} ({exc})")
            return
        if any(v > mqtt.above for v in values.values()):
            self.fire(f"{topic!r} {mqtt.field} above {mqtt.above:g}")

    async def run(self) -> None:
        """Subscribe to the sensor's topic until cancelled (nothing to do for a stream trigger)."""
        mqtt = self.config.mqtt
        if mqtt is None:
            return
        from cloud_sync.mqtt import keep_connected  # paho loads only when a gate listens to MQTT

        backoff = Backoff(0.5, mqtt.backoff_max)

        def down(error: str, delay: float) -> None:
            log.warning("stream %r gate %r: %s; reconnecting in %.1f s", self.stream, self.name, error, delay)

        await keep_connected(lambda: self._session(mqtt, backoff), backoff, down)

    async def _session(self, mqtt: SensorMqttConfig, backoff: Backoff) -> None:
        from cloud_sync.mqtt import connect, new_client

        client = new_client()
        if mqtt.username is not None:
            client.username_pw_set(mqtt.username, mqtt.password.get_secret_value() if mqtt.password else None)

        def deliver(message: Incoming) -> None:
            self.on_message(message.topic, message.payload)

        async with connect(client, mqtt.host, mqtt.port, mqtt.keepalive, on_message=deliver) as conn:
            await conn.subscribe(mqtt.topic, qos=0)
            backoff.reset()
            log.info("stream %r gate %r: subscribed to %r", self.stream, self.name, mqtt.topic)
            await conn.wait_lost()


class GateTrigger(Sink):
    """Put on another stream's sinks: each of its results (of the wanted kinds) fires the gate."""

    def __init__(self, gate: SensorGate) -> None:
        super().__init__(f"gate:{gate.stream}:{gate.name}")
        self.gate = gate

    def send(self, envelope: Envelope) -> None:
        kinds = self.gate.config.kinds
        if kinds is None or envelope.get("kind") in kinds:
            self.gate.fire(f"stream {envelope.get('stream')!r} {envelope.get('kind')}")


def build(config: SensorGateConfig, stream: str) -> SensorGate:
    return SensorGate(config, stream)
