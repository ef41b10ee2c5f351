"""The Home Assistant bridge of one device: discovery, state topics and control topics on the device's one link.

It is a sink every stream sends its result envelopes to (it only reads them: envelopes go on unchanged to the
other sinks) and derives the debounced label counts and occupancy from them. Its background task subscribes on
the link, republishes every discovery config when the link (re)connects (its own status topic says ``online``)
or Home Assistant's birth message says ``online``, clears the retained configs of entities that no longer exist,
and publishes the stats and device sensors every `stats_interval_s`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from cloud_sync import Inbound
from cloud_sync.envelope import Envelope
from edge_runtime._compat import TaskGroup
from edge_runtime.control import StreamControl
from edge_runtime.drops import SUPERSEDED
from edge_runtime.homeassistant._config import HomeAssistantConfig
from edge_runtime.homeassistant._control import ControlState, detect_state, fps_state
from edge_runtime.homeassistant._counts import HeldCount, label_counts
from edge_runtime.homeassistant._discovery import OFF, ON, Discovery, StreamEntities
from edge_runtime.homeassistant._publisher import Publisher, TopicLink
from edge_runtime.homeassistant._sensors import DeviceSensors, StreamRates
from edge_runtime.homeassistant._snapshots import FrameRing, Snapshots
from edge_runtime.homeassistant._topics import Topics
from edge_runtime.sinks import Sink
from edge_runtime.stats import StreamStats

log = logging.getLogger(__name__)
SETTLE_S = 0.25  # how often held counts are re-evaluated (a count goes down at most this late)


class Link(TopicLink, Protocol):
    """The link as the bridge uses it (cloud_sync.MqttTransport)."""

    @property
    def connected(self) -> bool: ...

    def subscribe(self, topic_filter: str, handler: Callable[[Inbound], object]) -> None: ...


@dataclass
class BridgedStream:
    name: str
    stats: StreamStats
    control: StreamControl
    labels: tuple[str, ...]
    counts: dict[str, HeldCount] = field(default_factory=dict)


class HomeAssistantBridge(Sink):
    def __init__(
        self,
        config: HomeAssistantConfig,
        *,
        topics: Topics,
        link: Link,
        streams: list[BridgedStream],
        device: DeviceSensors,
        base_dir: Path,
        frames: FrameRing | None = None,
        results_idle: Callable[[], bool] = lambda: True,
    ) -> None:
        super().__init__("homeassistant")
        self.config = config
        self.topics = topics
        self.link = link
        self.device = device
        self.publisher = Publisher(link, results_idle)
        self.snapshots = Snapshots(config.snapshots, base_dir, frames or FrameRing(set()), self._publish_snapshot)
        self.snapshot_streams = set(config.snapshots.streams)  # a hot reload may change them (`follow_snapshots`)
        self.streams: dict[str, BridgedStream] = {}
        self.rates: dict[str, StreamRates] = {}
        self.control = ControlState({}, base_dir / config.control.state_file)
        self.discovery = Discovery(topics, config.discovery_prefix)
        for stream in streams:
            self._track(stream)
        if config.control.enabled:
            self.control.restore()
        self.configs = self._configs()
        # The stats of the runtime's running streams, when a reload may add and remove streams (set by the builder).
        self.live: Callable[[], set[StreamStats]] | None = None
        self._was_live = {s.stats for s in streams}  # the streams the runtime starts with
        self.announced = 0  # how many times every config was published
        self._save = asyncio.Event()

    def _track(self, stream: BridgedStream) -> None:
        stream.counts = {label: HeldCount(self.config.hold_s) for label in stream.labels}
        self.streams[stream.name] = stream
        self.rates[stream.name] = StreamRates(stream.stats)
        self.control.controls[stream.name] = stream.control

    def _configs(self) -> dict[str, bytes]:
        shots, switchable = self.snapshot_streams, self.config.control.enabled
        entities = [StreamEntities(s.name, s.labels, switchable, s.name in shots) for s in self.streams.values()]
        device = self.device
        return self.discovery.configs(self.discovery.entities(entities, device.models(), device.cpu_readable))

    # -- streams added, changed or removed by a hot reload --

    def add_stream(self, stream: BridgedStream) -> None:
        """A stream started by a reload (a changed one replaces its old self): its entities are announced."""
        self._track(stream)
        if self.config.control.enabled:
            self.control.restore()
        self._publish_control(stream)
        for label in stream.labels:
            self._publish_count(stream, label)
        self._reconfigure()

    def follow_snapshots(self, streams: list[str]) -> None:
        """A reload changed which streams take snapshots: their frames are kept from now, their image entities
        announced (or cleared)."""
        if set(streams) == self.snapshot_streams:
            return
        self.snapshot_streams = set(streams)
        self.snapshots.follow(self.snapshot_streams)
        self._reconfigure()

    def _sync(self) -> None:
        """Forget the streams a reload removed; their entities get an empty retained config."""
        if self.live is None:
            return
        live = self.live()  # a stream added (or replaced) by a reload is kept until it has run and stopped
        gone = [name for name, s in self.streams.items() if s.stats in self._was_live and s.stats not in live]
        self._was_live = live
        for name in gone:
            del self.streams[name], self.rates[name], self.control.controls[name]
        if gone:
            self._reconfigure()

    def _reconfigure(self) -> None:
        configs = self._configs()
        for topic in self.configs.keys() - configs.keys():
            log.info("homeassistant: removing entity %s", topic)
            self.publisher.put(topic, b"", retain=True)
        self.configs = configs
        self.announce()

    # -- results in (from every stream, on the loop) --

    def send(self, envelope: Envelope) -> None:
        self.snapshots.on_envelope(envelope)
        stream = self.streams.get(str(envelope.get("stream")))
        if stream is None or not stream.labels:
            return
        counts = label_counts(envelope, stream.labels)
        if counts is None:
            return
        now = time.monotonic()
        for label, count in counts.items():
            held = stream.counts[label]
            before = held.shown
            held.observe(count, now)
            if held.shown != before:
                self._publish_count(stream, label)

    def _publish_count(self, stream: BridgedStream, label: str) -> None:
        shown = stream.counts[label].shown
        self.publisher.put(self.topics.count(stream.name, label), str(shown).encode(), retain=True)
        occupied = (ON if shown > 0 else OFF).encode()
        self.publisher.put(self.topics.occupied(stream.name, label), occupied, retain=True)

    def _publish_snapshot(self, stream: str, jpeg: bytes) -> None:
        if self.publisher.put(self.topics.stream(stream, "snapshot"), jpeg, retain=True, low=True):
            self.snapshots.drops.add(SUPERSEDED)  # a newer snapshot replaced one still waiting for results to go

    # -- the background task --

    async def run(self) -> None:
        self._subscribe()
        self._publish_states()
        async with TaskGroup() as group:
            group.create_task(self.publisher.run(), name="homeassistant:publish")
            group.create_task(self._settle(), name="homeassistant:settle")
            group.create_task(self._sensors(), name="homeassistant:sensors")
            group.create_task(self._persist(), name="homeassistant:persist")
            group.create_task(self.snapshots.run(), name="homeassistant:snapshots")  # idle until a stream takes any

    def _subscribe(self) -> None:
        self.link.subscribe(self.topics.status, self._on_own_status)
        self.link.subscribe(f"{self.config.discovery_prefix}/status", self._on_ha_status)
        self.link.subscribe(f"{self.config.discovery_prefix}/+/{self.topics.device}/+/config", self._on_config)
        if self.config.control.enabled:
            self.link.subscribe(self.topics.control_filter("detect"), self._on_control)
            self.link.subscribe(self.topics.control_filter("fps"), self._on_control)

    def _on_own_status(self, message: Inbound) -> None:
        if message.payload == b"online":  # the link (re)connected: our birth message, delivered back to us
            self.announce()

    def _on_ha_status(self, message: Inbound) -> None:
        if message.payload == b"online":  # Home Assistant (re)started and wants every config again
            self.announce()

    def announce(self) -> None:
        for topic, payload in self.configs.items():
            self.publisher.put(topic, payload, retain=True)
        self.announced += 1

    def _on_config(self, message: Inbound) -> None:
        """A retained config of this device that is no longer offered (a removed stream): cleared."""
        if message.payload and message.topic not in self.configs:
            log.info("homeassistant: removing entity %s", message.topic)
            self.publisher.put(message.topic, b"", retain=True)

    def _on_control(self, message: Inbound) -> None:
        levels = message.topic.split("/")
        stream, what = levels[-3], levels[-2]
        if self.control.apply(stream, what, message.payload):
            self._publish_control(self.streams[stream])
            self._save.set()
            if what == "detect" and not self.streams[stream].control.detect:
                self._reset_counts(self.streams[stream])

    def _publish_states(self) -> None:
        for stream in self.streams.values():
            self._publish_control(stream)
            for label in stream.labels:
                self._publish_count(stream, label)

    def _publish_control(self, stream: BridgedStream) -> None:
        if not self.config.control.enabled:
            return
        control = stream.control
        self.publisher.put(self.topics.control(stream.name, "detect", "state"), detect_state(control), retain=True)
        self.publisher.put(self.topics.control(stream.name, "fps", "state"), fps_state(control), retain=True)

    def _reset_counts(self, stream: BridgedStream) -> None:
        """Detection off: nothing is seen any more, so counts fall to 0 (after the hold, like any other drop)."""
        now = time.monotonic()
        for held in stream.counts.values():
            held.observe(0, now)

    async def _settle(self) -> None:
        while True:
            await asyncio.sleep(SETTLE_S)
            self._sync()
            now = time.monotonic()
            for stream in self.streams.values():
                for label, held in stream.counts.items():
                    before = held.shown
                    if held.settle(now) != before:
                        self._publish_count(stream, label)

    async def _sensors(self) -> None:
        while True:
            await asyncio.sleep(self.config.stats_interval_s)
            for name, rates in self.rates.items():
                values = rates.sample(self.streams[name].control.status)
                self.publisher.put(self.topics.stats(name), json.dumps(values).encode())
            device = await self.device.sample(self.link.connected)
            if self.snapshot_streams:
                device["snapshots"] = self.snapshots.snapshot()
            self.publisher.put(self.topics.device_state, json.dumps(device).encode())

    async def _persist(self) -> None:
        while True:
            await self._save.wait()
            self._save.clear()
            try:
                await asyncio.to_thread(self.control.save, self.control.snapshot())
            except OSError as exc:
                log.warning("%s: control state not saved: %s", self.control.path, exc)
