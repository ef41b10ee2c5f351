"""Cloud sync: a durable outbox, MQTT / ZeroMQ / in-memory transports, and the `edge-cloud` tool.

This package does not import edge_runtime: the cloud side installs and runs it on its own. The transports, the
outbox and the uplink are imported when first used (`cloud_sync._lazy`): paho, pyzmq and sqlite3 load only in a
process that runs them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cloud_sync.backoff import Backoff
from cloud_sync.config import CloudConfig, CurveConfig, MqttConfig, OutboxConfig, TlsConfig, ZmqConfig
from cloud_sync.counters import Drops
from cloud_sync.envelope import (
    PRIORITIES,
    Envelope,
    EnvelopeError,
    Inbound,
    Key,
    Message,
    Priority,
    decode,
    encode,
    key_of,
    outbox_priority,
    topic_of,
)
from cloud_sync.links import make_transport
from cloud_sync.memory import MemoryTransport
from cloud_sync.tally import Tally
from cloud_sync.transport import Transport

if TYPE_CHECKING:
    from cloud_sync._tls import LinkError
    from cloud_sync.mqtt import MqttTransport
    from cloud_sync.outbox import Entry, Outbox
    from cloud_sync.uplink import Uplink
    from cloud_sync.zmq_link import ZmqTransport
else:
    from cloud_sync._lazy import lazy_exports

    __getattr__ = lazy_exports(
        __name__,
        {
            "LinkError": "cloud_sync._tls",
            "MqttTransport": "cloud_sync.mqtt",
            "Entry": "cloud_sync.outbox",
            "Outbox": "cloud_sync.outbox",
            "Uplink": "cloud_sync.uplink",
            "ZmqTransport": "cloud_sync.zmq_link",
        },
    )

__all__ = [
    "PRIORITIES",
    "Backoff",
    "CloudConfig",
    "CurveConfig",
    "Drops",
    "Entry",
    "Envelope",
    "EnvelopeError",
    "Inbound",
    "Key",
    "LinkError",
    "MemoryTransport",
    "Message",
    "MqttConfig",
    "MqttTransport",
    "Outbox",
    "OutboxConfig",
    "Priority",
    "Tally",
    "TlsConfig",
    "Transport",
    "Uplink",
    "ZmqConfig",
    "ZmqTransport",
    "decode",
    "encode",
    "key_of",
    "make_transport",
    "outbox_priority",
    "topic_of",
]
