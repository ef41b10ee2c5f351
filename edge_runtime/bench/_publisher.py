"""A plain paho-mqtt client publishing at a steady rate, in its own process: the uplink bench's `broker` case.

`python -m edge_runtime.bench._publisher PORT RATE SECONDS` publishes RATE messages a second at QoS 1 (an
envelope-sized payload) to the mosquitto on 127.0.0.1:PORT for SECONDS, in bursts every 10 ms, prints how many
the broker acknowledged, and exits. It loads
the machine as the runtime's busy uplink does (the broker's work, a client's encoding and socket I/O) from another
process, so the bench can tell that load apart from what the uplink costs inside the runtime.
"""

from __future__ import annotations

import sys
import time

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

TICK_S = 0.01
PAYLOAD = b'{"stream":"sensors","seq":0,"kind":"reading","payload":{"values":{"t":21.5,"rh":40.1,"p":1013.2}}}' * 2


def publish(port: int, rate: float, seconds: float) -> int:
    """Publish at `rate` a second for `seconds`; returns how many the broker acknowledged (waiting up to 5 s)."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="bench-load")
    client.max_inflight_messages_set(64)
    client.connect("127.0.0.1", port)
    client.loop_start()
    infos: list[paho.MQTTMessageInfo] = []
    start = time.monotonic()
    try:
        while (elapsed := time.monotonic() - start) < seconds:
            for _ in range(int(elapsed * rate) - len(infos)):
                infos.append(client.publish("edge/bench-load/results/sensors", PAYLOAD, qos=1))
            time.sleep(TICK_S)
        if infos:
            infos[-1].wait_for_publish(5)
    finally:
        client.loop_stop()
        client.disconnect()
    return sum(1 for info in infos if info.is_published())


if __name__ == "__main__":
    print(publish(int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])), flush=True)
