"""The `cloud:` section: how results leave the device (outbox, then MQTT, ZeroMQ or nowhere)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from cloud_sync._units import parse_duration, parse_size

ByteSize = Annotated[int, BeforeValidator(parse_size)]
Duration = Annotated[float, BeforeValidator(parse_duration)]
OptionalDuration = Annotated[float | None, BeforeValidator(parse_duration)]


class _Strict(BaseModel):
    """Immutable after load; a misspelt key is an error, not a silent default."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class TlsConfig(_Strict):
    """TLS for the MQTT connection. Paths are read when connecting, not when the config is validated."""

    ca: Path | None = Field(None, description="CA bundle that signed the broker's certificate; None: system CAs.")
    cert: Path | None = Field(None, description="Client certificate (PEM) when the broker requires one.")
    key: Path | None = Field(None, description="Private key (PEM) of the client certificate.")

    @model_validator(mode="after")
    def _cert_and_key(self) -> TlsConfig:
        if (self.cert is None) != (self.key is None):
            raise ValueError("tls: cert and key go together (give both or neither)")
        return self


class MqttConfig(_Strict):
    """An MQTT broker. The device publishes under `<topic_prefix>/<device>/...`."""

    host: str = Field(description="Broker host name or address.")
    port: int = Field(1883, ge=1, le=65535, description="Broker port (8883 is the usual TLS port).")
    tls: TlsConfig | None = Field(None, description="TLS settings; None: plain TCP.")
    username: str | None = Field(None, description="User name, when the broker wants one.")
    password: str | None = Field(None, description="Password; use ${env:NAME} rather than writing it in the file.")
    client_id: str | None = Field(None, description="MQTT client id; default `edge-<device>`.")
    keepalive: int = Field(30, ge=2, le=3600, description="Seconds between pings; a dead link is noticed within 1.5x.")
    backoff_initial: Duration = Field(0.5, gt=0, description="First reconnect delay (doubles, jittered).")
    backoff_max: Duration = Field(30.0, gt=0, description="Longest reconnect delay.")


class CurveConfig(_Strict):
    """CURVE keys of the device (client) side, as written by `zmq.auth.create_certificates`."""

    server_key: Path = Field(description="The cloud side's public key file (e.g. keys/server.key).")
    client_key: Path = Field(description="This device's secret key file (e.g. keys/device.key_secret).")


class ZmqConfig(_Strict):
    """A ZeroMQ ROUTER in the cloud; the device connects a DEALER and waits for application acks."""

    endpoint: str = Field(description="Where the cloud ROUTER listens, e.g. tcp://cloud.example:5555.")
    curve: CurveConfig | None = Field(None, description="CURVE encryption and authentication; None: plain TCP.")
    hwm: int = Field(1000, ge=1, description="High-water mark (messages) of the socket; a send over it is deferred.")
    ack_timeout: Duration = Field(5.0, gt=0, description="Unacknowledged messages are sent again after this long.")
    backoff_max: Duration = Field(30.0, gt=0, description="Longest reconnect interval (ZeroMQ doubles up to it).")


class OutboxConfig(_Strict):
    """The durable queue between the runtime and the network (SQLite, WAL)."""

    path: Path = Field(Path("var/outbox.db"), description="SQLite file; created with its directory.")
    max_bytes: ByteSize = Field(
        64 * 1024**2, gt=0, description="Cap on stored topic+payload bytes, e.g. 64MiB; what happens over it: policy."
    )
    ttl: OptionalDuration = Field(
        7 * 86400.0, description="Default time to live of an entry (e.g. 7d); expired entries are dropped, counted."
    )
    policy: Literal["reject", "drop_oldest_lowest"] = Field(
        "drop_oldest_lowest",
        description="At the cap: reject refuses new entries (put() returns False: back-pressure); "
        "drop_oldest_lowest evicts the oldest entry of the lowest priority not above the new one's.",
    )
    batch_size: int = Field(256, ge=1, le=10000, description="Entries per transaction and per drain batch.")
    buffer: int = Field(10000, ge=1, description="In-memory entries waiting for the committer; more are dropped.")
    synchronous: Literal["normal", "full"] = Field(
        "normal", description="SQLite synchronous: normal survives a process crash, full also a power cut (slower)."
    )

    @model_validator(mode="after")
    def _ttl_positive(self) -> OutboxConfig:
        if self.ttl is not None and self.ttl <= 0:
            raise ValueError(f"outbox.ttl must be > 0 (got {self.ttl})")
        return self


class CloudConfig(_Strict):
    """Where results go: exactly one of mqtt or zmq, or neither (results stay in the outbox, in-memory link)."""

    mqtt: MqttConfig | None = Field(None, description="Publish to an MQTT broker.")
    zmq: ZmqConfig | None = Field(None, description="Send to a ZeroMQ ROUTER.")
    outbox: OutboxConfig = Field(default_factory=OutboxConfig, description="The durable queue.")
    topic_prefix: str = Field("edge", pattern=r"^[^#+]+$", description="First topic level (no + or #).")
    qos: Literal[0, 1, 2] = Field(1, description="MQTT QoS of results and events; 0 deletes once written.")
    max_inflight: int = Field(64, ge=1, le=65535, description="Messages sent and not yet confirmed, at most.")

    @model_validator(mode="after")
    def _one_link(self) -> CloudConfig:
        if self.mqtt is not None and self.zmq is not None:
            raise ValueError("cloud: give mqtt or zmq, not both")
        return self

    @property
    def link(self) -> Literal["mqtt", "zmq", "none"]:
        if self.mqtt is not None:
            return "mqtt"
        return "zmq" if self.zmq is not None else "none"
