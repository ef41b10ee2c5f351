"""A sensor stream from an MQTT topic: one reading per message, plain numbers or JSON.

The subscription runs on the event loop (aiomqtt does no blocking I/O). A lost broker is retried with a
jittered exponential backoff; a malformed message is counted as a `bad_message` drop, logged in one line,
and skipped: it never stops the source.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Literal

import aiomqtt
from aiomqtt.types import PayloadType
from pydantic import Field, SecretStr, field_validator, model_validator

from edge_runtime.channel import Channel
from edge_runtime.drops import DropCounter
from edge_runtime.frames import Item
from edge_runtime.sections import StrictModel
from edge_runtime.sources._backoff import Backoff
from edge_runtime.sources._base import BAD_MESSAGE, ChannelPolicy, Source, Stamp, one_line
from edge_runtime.sources._payload import BadMessage, PayloadFormat, parse_values

log = logging.getLogger(__name__)

INCOMING_LIMIT = 1024  # messages aiomqtt may hold before our loop takes them (it discards beyond, with a warning)
PREVIEW_CHARS = 60


class MqttSourceConfig(StrictModel):
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
    backoff_initial: float = Field(0.5, gt=0, description="first reconnect delay (s), doubled per failure")
    backoff_max: float = Field(30.0, gt=0, description="cap of the reconnect delay (s)")

    @model_validator(mode="after")
    def _backoff_order(self) -> MqttSourceConfig:
        if self.backoff_max < self.backoff_initial:
            raise ValueError(f"backoff_max ({self.backoff_max}) must be >= backoff_initial ({self.backoff_initial})")
        return self

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

    def channel_policy(self) -> ChannelPolicy:
        return ChannelPolicy(capacity=self.config.buffer, overflow="drop_newest")

    async def run(self, out: Channel[Item]) -> None:
        out.bind(asyncio.get_running_loop())
        backoff = Backoff(self.config.backoff_initial, self.config.backoff_max)
        while True:
            try:
                await self._session(out, backoff)
                error = "connection closed"
            except aiomqtt.MqttError as exc:
                error = one_line(exc)
            self.state.failed(error)
            delay = backoff.next_delay()
            log.warning("%s", self.describe(f"{self.label}: {error}; reconnecting in {delay:.1f} s"))
            await asyncio.sleep(delay)
            self.state.reconnecting()

    async def _session(self, out: Channel[Item], backoff: Backoff) -> None:
        cfg = self.config
        async with aiomqtt.Client(
            cfg.host,
            cfg.port,
            username=cfg.username,
            password=cfg.password.get_secret_value() if cfg.password else None,
            identifier=cfg.client_id,
            keepalive=cfg.keepalive,
            timeout=10,
            max_queued_incoming_messages=INCOMING_LIMIT,
        ) as client:
            await client.subscribe(cfg.topic, qos=cfg.qos)
            self.state.connected()
            backoff.reset()
            log.info("%s", self.describe(f"subscribed to {self.label}"))
            async for message in client.messages:
                self.handle(message.topic.value, message.payload, out)

    def handle(self, topic: str, payload: PayloadType, out: Channel[Item]) -> bool:
        """Turn one message into a reading and offer it; a bad message is counted and logged, never raised."""
        stamp = Stamp.now()
        try:
            values = parse_values(_raw(payload), self.config.format, self.config.field)
        except BadMessage as exc:
            self.drops.add(BAD_MESSAGE)
            self.state.error(f"bad message on '{topic}': {exc}")
            log.warning("%s", self.describe(f"topic '{topic}': bad message ({exc}): {_preview(payload)}"))
            return False
        self.state.item()
        return out.put(self.make_reading(values, stamp, source=topic))


def _raw(payload: PayloadType) -> bytes | str:
    if isinstance(payload, (bytes, bytearray)):
        return bytes(payload)
    if payload is None:
        return ""
    return str(payload)


def _preview(payload: PayloadType) -> str:
    text = repr(_raw(payload))
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "..."
