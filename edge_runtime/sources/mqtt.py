"""A sensor stream from an MQTT topic: one reading per message, plain numbers or JSON.

The subscription runs on the event loop, on the project's one MQTT layer (`cloud_sync.mqtt`: paho
driven by asyncio). Each message goes straight from the socket into the stream's bounded channel: there is no
other queue in between, so a burst beyond the channel is counted (`queue_full`), never discarded unseen. A lost
broker is retried with a jittered exponential backoff; a malformed message is counted as a `bad_message` drop,
logged (rate-limited), and skipped: it never stops the source.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import Field, SecretStr, field_validator

from cloud_sync.backoff import Backoff
from cloud_sync.logs import RateLimitedLog
from edge_runtime.channel import Channel
from edge_runtime.drops import DropCounter
from edge_runtime.frames import Item
from edge_runtime.sources._base import BAD_MESSAGE, ChannelPolicy, Source, Stamp
from edge_runtime.sources._payload import BadMessage, PayloadFormat, parse_values
from edge_runtime.sources._reconnect import ReconnectSettings

if TYPE_CHECKING:
    from cloud_sync.mqtt import Incoming

log = logging.getLogger(__name__)

PREVIEW_CHARS = 60


class MqttSourceConfig(ReconnectSettings):
    """Readings from an MQTT topic. Each reading's `source` is the topic the message came on."""

    type: Literal["mqtt"]
    host: str = Field("localhost", min_length=1, description="broker host name or address")
    port: int = Field(1883, ge=1, le=65535, description="broker port")
    topic: str = Field(min_length=1, description="topic or filter to subscribe to (+ and # allowed)")
    qos: Literal[0, 1, 2] = Field(0, description="subscription QoS")
    username: str | None = Field(None, description="user name, if the broker wants one")
    password: SecretStr | None = Field(None, description="password (use ${env:NAME} rather than writing it here)")
    client_id: str | None = Field(None, description="MQTT client identifier (default: random)")
    format: PayloadFormat = Field(
        "auto", description="auto: a number or JSON; json: only JSON; number: only a plain number"
    )
    field: str | None = Field(
        None, min_length=1, description="take only this numeric JSON field (dotted for nested: env.temp)"
    )
    keepalive: int = Field(30, ge=5, description="MQTT keepalive (s)")
    buffer: int = Field(64, ge=1, description="readings held for a slow pipeline; beyond, new ones drop (queue_full)")

    @field_validator("topic")
    @classmethod
    def _valid_filter(cls, topic: str) -> str:
        levels = topic.split("/")
        for i, level in enumerate(levels):
            if ("+" in level and level != "+") or ("#" in level and (level != "#" or i != len(levels) - 1)):
                raise ValueError(f"{topic!r} is not an MQTT topic filter: + and # stand alone, # only last")
        return topic


class MqttSource(Source):
    kind = "mqtt"

    def __init__(self, config: MqttSourceConfig, stream: str, drops: DropCounter, base_dir: Path) -> None:
        del base_dir  # nothing to resolve
        super().__init__(stream, drops)
        self.config = config
        self.label = f"mqtt://{config.host}:{config.port} topic '{config.topic}'"
        self._quiet = RateLimitedLog(log)

    def channel_policy(self) -> ChannelPolicy:
        return ChannelPolicy(capacity=self.config.buffer, overflow="drop_newest")

    async def run(self, out: Channel[Item]) -> None:
        from cloud_sync.mqtt import keep_connected  # paho loads only when a stream reads MQTT

        out.bind(asyncio.get_running_loop())
        backoff = self.config.backoff()

        def down(error: str, delay: float) -> None:
            self.state.failed(error)
            log.warning("%s", self.describe(f"{self.label}: {error}; reconnecting in {delay:.1f} s"))

        await keep_connected(lambda: self._session(out, backoff), backoff, down, self.state.reconnecting)

    async def _session(self, out: Channel[Item], backoff: Backoff) -> None:
        from cloud_sync.mqtt import connect, new_client

        cfg = self.config
        client = new_client(cfg.client_id or "")
        if cfg.username is not None:
            client.username_pw_set(cfg.username, cfg.password.get_secret_value() if cfg.password else None)

        def deliver(message: Incoming) -> None:
            self.handle(message.topic, message.payload, out)

        async with connect(client, cfg.host, cfg.port, cfg.keepalive, on_message=deliver) as conn:
            await conn.subscribe(cfg.topic, qos=cfg.qos)
            self.state.connected()
            backoff.reset()
            log.info("%s", self.describe(f"subscribed to {self.label}"))
            await conn.wait_lost()

    def handle(self, topic: str, payload: bytes, out: Channel[Item]) -> bool:
        """Turn one message into a reading and offer it; a bad message is counted and logged, never raised."""
        stamp = Stamp.now()
        try:
            values = parse_values(payload, self.config.format, self.config.field)
        except BadMessage as exc:
            self.drops.add(BAD_MESSAGE)
            self.state.error(f"bad message on '{topic}': {exc}")
            text = self.describe(f"topic '{topic}': bad message ({exc}): {_preview(payload)}")
            self._quiet.warning(BAD_MESSAGE, text)
            return False
        self.state.item()
        return out.put(self.make_reading(values, stamp, source=topic))


def _preview(payload: bytes) -> str:
    text = repr(payload)
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "..."
