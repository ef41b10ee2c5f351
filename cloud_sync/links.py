"""Building the transport a `CloudConfig` asks for."""

from __future__ import annotations

from cloud_sync.config import CloudConfig
from cloud_sync.memory import MemoryTransport
from cloud_sync.transport import Transport


def make_transport(config: CloudConfig, device: str) -> Transport:
    """MQTT, ZeroMQ, or (neither configured) the in-memory link. Call on the event loop's thread."""
    if config.mqtt is not None:
        from cloud_sync.mqtt import MqttTransport

        return MqttTransport(
            config.mqtt, device, prefix=config.topic_prefix, qos=config.qos, max_inflight=config.max_inflight
        )
    if config.zmq is not None:
        from cloud_sync.zmq_link import ZmqTransport

        return ZmqTransport(config.zmq, device, prefix=config.topic_prefix, max_inflight=config.max_inflight)
    return MemoryTransport(device, config.topic_prefix, keep=1000)
