"""Build a `Runtime` from a validated config: load models, make sources, stages, sinks and streams."""

from __future__ import annotations

import asyncio
import logging
import sys
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cloud_sync import Transport, make_transport
from cloud_sync.envelope import Envelope
from cloud_sync.models import ModelUpdatesConfig
from edge_runtime.cascade import CascadeStep
from edge_runtime.channel import Channel
from edge_runtime.config import InferStageConfig, RuntimeConfig, StreamConfig
from edge_runtime.config._models import DeviceCloudConfig
from edge_runtime.config._thermal import ThermalConfig
from edge_runtime.control import StreamControl
from edge_runtime.drops import ERROR
from edge_runtime.engine._direct import Admit
from edge_runtime.engine._homeassistant import follow_snapshots, homeassistant_bridge, join_bridge, snapshot_frames
from edge_runtime.engine._runtime import Background, Runtime, StreamParts
from edge_runtime.engine._stats_topic import stats_provider
from edge_runtime.engine._status import StatusDisplay
from edge_runtime.engine._stream import InferStep, StreamRunner, Submit
from edge_runtime.engine._terminal import LiveTerminal, summary_line
from edge_runtime.frames import Item
from edge_runtime.gates import GATE_CONFIGS, GateTrigger, SensorGate, build_gate
from edge_runtime.inference import ModelError, TfliteModelHandle
from edge_runtime.jobs import Dropped, Job, Outcome
from edge_runtime.notify import SystemdNotifier
from edge_runtime.plan import RuntimePlan
from edge_runtime.reload import Reloader
from edge_runtime.results import Result
from edge_runtime.scheduler import AcceleratorService
from edge_runtime.sections import Priority
from edge_runtime.sinks import ConsoleSink, Sink, build_sink
from edge_runtime.sinks.cloud import CloudSink
from edge_runtime.sinks.configs import SinkConfig
from edge_runtime.sinks.failed import FailedSink
from edge_runtime.sources import build_source
from edge_runtime.stages import build_stage
from edge_runtime.stats import StreamStats
from edge_runtime.thermal import ThermalController
from edge_runtime.updates import RecentFrames, UpdateHistory, load_models

if TYPE_CHECKING:
    from edge_runtime.homeassistant.bridge import HomeAssistantBridge

log = logging.getLogger(__name__)


def build_runtime(
    config: RuntimeConfig,
    base_dir: Path,
    display: str | None = None,
    extra_sinks: dict[str, Sink] | None = None,
    config_path: Path | None = None,
) -> tuple[Runtime, AcceleratorService]:
    """Everything that can fail on a user's mistake (a model, a path) fails here, before any task starts.
    With `config_path`, the runtime reloads that file on SIGHUP (and `POST /api/reload`)."""
    boot_id = uuid.uuid4().hex
    service = AcceleratorService(config.accelerator)
    log.info("accelerator: %s", config.accelerator.threads_chosen())
    updates = config.cloud.models if config.cloud is not None else None
    for name, handle in load_models(config.models, config.accelerator, base_dir, updates).items():
        service.set_model(name, handle)
    plan = RuntimePlan(config, base_dir)
    background: dict[str, Background] = {"plan": plan.log_at_start}
    submission = Submission(service)
    # the device's one link to the cloud: the cloud sink's uplink runs it, model updates subscribe to it
    link = make_transport(config.cloud, config.device.id) if config.cloud is not None else None
    history: UpdateHistory | None = None
    if config.cloud is not None and updates is not None:
        frames = RecentFrames()
        submission.hook(frames.keep)
        parts, history = _model_updates(
            config, config.cloud, link, updates=updates, service=service, frames=frames, base_dir=base_dir,
            plan=plan,
        )  # fmt: skip
        background.update(parts)
    stats_of: dict[str, StreamStats] = {}  # filled once the streams are built
    classes: dict[str, Priority] = {}  # each stream's class, for the thermal gate (a hot reload adds to it)
    _thermal(config.thermal, service, submission, stats_of=stats_of, classes=classes, background=background)
    mode = _display_mode(display or config.status.display)
    terminal = LiveTerminal() if mode == "tty" else None
    sinks = _sinks(config, base_dir, boot_id, terminal.print if terminal else None, extra_sinks or {}, link=link)

    def envelope(result: Result) -> Envelope:
        return result.envelope(config.device.id, boot_id)

    snapshots = snapshot_frames(config)
    if snapshots is not None:
        submission.hook(snapshots.keep)
    controls: dict[str, StreamControl] | None = {} if config.homeassistant is not None else None
    bridges: list[HomeAssistantBridge] = []  # the Home Assistant bridge once made: streams a reload starts join it

    def make_stream(name: str, stream: StreamConfig) -> StreamParts:  # at start, and for a hot reload
        parts = _stream(name, stream, service=service, submission=submission, sinks=sinks, envelope=envelope,
                        base_dir=base_dir, controls=controls)  # fmt: skip
        stats_of[name] = parts.runner.stats
        classes[name] = stream.priority
        for bridge in bridges:
            join_bridge(bridge, parts, stream, controls or {})
        return parts

    streams = [make_stream(name, stream) for name, stream in config.streams.items()]
    _wire_gates(streams)
    all_stats = [parts.runner.stats for parts in streams]
    status = StatusDisplay(all_stats, mode, config.status.interval_s, terminal) if mode != "off" else None
    if config.homeassistant is not None and controls is not None:
        bridge = homeassistant_bridge(
            config,
            config.homeassistant,
            link=link,
            sinks=sinks,
            streams=streams,
            controls=controls,
            service=service,
            base_dir=base_dir,
            frames=snapshots,
        )
        bridges.append(bridge)
    runtime = _assemble(streams, sinks, bridges, service=service, background=background, status=status)
    _publish_stats(sinks.get("cloud"), runtime, service)
    reloader = None
    if config_path is not None:
        reloader = Reloader(
            config_path,
            config,
            runtime,
            service,
            make_stream,
            on_applied=[_rewiring(runtime), *(follow_snapshots(bridge) for bridge in bridges)],
        )
        runtime.background["reload"] = reloader.run
    if config.http.enabled:
        _serve_http(config, runtime, service, sinks.get("cloud"), reloader, history=history)
    _notify_systemd(runtime)
    return runtime, service


class Submission:
    """The accelerator's `submit` and the admission hooks every frame meets first (model updates' recent frames,
    thermal shedding, snapshots' frames), outermost first: on the loop's path they wrap `submit`, on the direct
    path the capture threads ask them (`InferStep.admit`)."""

    def __init__(self, service: AcceleratorService) -> None:
        self.service = service
        self.submit: Submit = service.submit
        self._hooks: list[Admit] = []

    def hook(self, keep: Admit, shed: Callable[[Job], Dropped] | None = None) -> None:
        """`keep(job)` sees each frame before the hooks added earlier; a frame it sheds (False: it counted it)
        ends there, on the loop's path as the outcome `shed(job)` (a hook without `shed` always keeps)."""
        inner = self.submit

        def submit(job: Job) -> asyncio.Future[Outcome]:
            if keep(job):
                return inner(job)
            future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
            future.set_result(shed(job) if shed is not None else Dropped(ERROR, "shed by an admission hook"))
            return future

        self.submit = submit
        self._hooks.insert(0, keep)

    def admit(self) -> Admit | None:
        """Each hook in turn, stopping at the first that sheds the frame (None: nothing wraps `submit`)."""
        hooks = list(self._hooks)
        if len(hooks) <= 1:
            return hooks[0] if hooks else None
        return lambda job: all(hook(job) for hook in hooks)

    def infer_step(self, model: str) -> InferStep:
        return InferStep(model, self.submit, self.service, self.admit())


def _thermal(
    config: ThermalConfig | None,
    service: AcceleratorService,
    submission: Submission,
    *,
    stats_of: dict[str, StreamStats],
    classes: dict[str, Priority],
    background: dict[str, Background],
) -> None:
    """Thermal degradation (with a `thermal:` section): the gate around `submit` and the same decision for the
    direct path (shed frames count as each stream's `thermal` drops), the sensor loop as a background part, fewer
    lanes/threads through the service, the state in its snapshot."""
    if config is None:
        return
    thermal = ThermalController(
        config, lambda stream: stats_of[stream].drops, service.use_lanes, use_threads=service.use_threads
    )
    background["thermal"] = thermal.run
    service.reports["thermal"] = thermal.snapshot
    submission.hook(thermal.keeps(classes), thermal.shed_outcome)


def _publish_stats(cloud: Sink | None, runtime: Runtime, service: AcceleratorService) -> None:
    """The periodic stats envelope on the device's one link (`<prefix>/<device>/stats`), through the outbox."""
    if isinstance(cloud, CloudSink):
        cloud.publish_stats(stats_provider(runtime.streams, service))


def _notify_systemd(runtime: Runtime) -> None:
    """READY, WATCHDOG, STATUS and STOPPING for systemd, when it runs us as `Type=notify` (else nothing)."""
    notifier = SystemdNotifier.from_env(lambda: summary_line([p.runner.stats for p in runtime.streams]))
    if notifier is not None:
        runtime.on_started.append(notifier.ready)
        runtime.on_stopping.append(notifier.stopping)
        runtime.background["notify"] = notifier.run


def _serve_http(
    config: RuntimeConfig,
    runtime: Runtime,
    service: AcceleratorService,
    cloud: Sink | None,
    reloader: Reloader | None,
    *,
    history: UpdateHistory | None,
) -> None:
    """The console, metrics and health server: one more service of the runtime, reading its accounting."""
    from edge_runtime.http._view import RuntimeView
    from edge_runtime.http.serve import HttpService

    view = RuntimeView(config, runtime.streams, service, cloud if isinstance(cloud, CloudSink) else None)
    view.model_updates = history
    if reloader is not None:
        view.reload = reloader.reload
    runtime.on_started.append(view.mark_ready)
    runtime.services.append(HttpService(config.http, view))  # entered last: left first, after the streams drain


def _assemble(
    streams: list[StreamParts], sinks: dict[str, Sink], more: Sequence[Sink], *, service: AcceleratorService,
    background: dict[str, Background], status: StatusDisplay | None,
) -> Runtime:  # fmt: skip
    """Every sink built runs and is closed, used by a stream or not (yet: a reload may add one that uses it); the
    cloud sink's uplink is a service entered after the accelerator (so it exits first); a sink that could not
    open is a failed part."""
    cloud = sinks.get("cloud")
    uplinks = [cloud.uplink] if isinstance(cloud, CloudSink) else []
    runtime = Runtime(streams, [*sinks.values(), *more], services=[service, *uplinks], background=background,
                      status=status)  # fmt: skip
    runtime.failed += [f"sink:{name}" for name, sink in sinks.items() if isinstance(sink, FailedSink)]
    return runtime


def _stream(
    name: str,
    config: StreamConfig,
    *,
    service: AcceleratorService,
    submission: Submission,
    sinks: dict[str, Sink],
    envelope: Callable[[Result], Envelope],
    base_dir: Path,
    controls: dict[str, StreamControl] | None = None,
) -> StreamParts:
    stages_config = config.pipeline if isinstance(config.pipeline, list) else []
    infer_config = next((s for s in stages_config if isinstance(s, InferStageConfig) and s.on is None), None)
    stats = StreamStats(name)
    source = build_source(config.source, name, stats.drops, base_dir)
    policy = source.channel_policy()
    infer = None
    if infer_config is not None:
        service.register_stream(
            name, config.priority, config.deadline_ms, min_share=config.min_share, max_wait_ms=config.max_wait_ms,
            stats=stats, supersede=not policy.blocking,
        )  # fmt: skip
        infer = submission.infer_step(infer_config.model)
    admit = None
    if controls is not None:
        control = controls[name] = StreamControl(stats, getattr(config.source, "fps", None))
        admit = control.admit
    channel: Channel[Item] = Channel(policy.capacity, policy.overflow, stats.drops, on_offer=stats.offer, admit=admit)
    gates = [build_gate(s, name) for s in stages_config if isinstance(s, GATE_CONFIGS)]
    cascades = _cascades(name, config, stages_config, service, submission.submit)
    stats.crops.update({step.name: step.stats for step in cascades})
    stages = [build_stage(s, name) for s in stages_config if not isinstance(s, (InferStageConfig, *GATE_CONFIGS))]
    stats.downstream.update({stage.name: stage.drops for stage in stages})
    runner = StreamRunner(
        name,
        channel,
        stats=stats,
        infer=infer,
        stages=stages,
        sinks=[sinks[s] for s in config.sinks],
        envelope=envelope,
        gates=gates,
        cascades=cascades,
    )
    return StreamParts(runner, source, config)


def _rewiring(runtime: Runtime) -> Callable[[RuntimeConfig], None]:
    """A reload's hook: the streams it started fire, and are fired by, the others' sensor gates."""

    def rewire(new: RuntimeConfig) -> None:
        del new
        _wire_gates(runtime.streams)

    return rewire


def _wire_gates(streams: list[StreamParts]) -> None:
    """Sensor gates fired by another stream get a trigger among that stream's sinks (their MQTT subscriptions
    run with their own stream's dispatch). Again after a reload: the triggers are laid anew, so a stream it
    added or changed is fired by (and fires) the others, and a stream it removed fires nothing any more."""
    runners = {parts.runner.name: parts.runner for parts in streams}
    for runner in runners.values():
        runner.sinks[:] = [sink for sink in runner.sinks if not isinstance(sink, GateTrigger)]
    for runner in runners.values():
        for gate in runner.gates:
            if isinstance(gate, SensorGate) and gate.config.stream is not None:
                runners[gate.config.stream].sinks.append(GateTrigger(gate))


def _cascades(
    name: str, config: StreamConfig, stages: list[Any], service: AcceleratorService, submit: Submit
) -> list[CascadeStep]:
    """The stream's cascade stages; each crop slot is registered with the stream's class and deadline."""
    steps: list[CascadeStep] = []
    previous: str | None = None  # each cascade runs on the detections of the `infer` stage before it
    for s in stages:
        if not isinstance(s, InferStageConfig):
            continue
        if s.on is not None and previous is not None:
            _check_cascade_labels(name, s, previous, service)
            steps.append(CascadeStep(s.name, name, s.model, s.on, s.crop, config.deadline_ms, submit))
        previous = s.model
    for step in steps:
        for slot in step.slots:
            service.register_stream(slot, config.priority, config.deadline_ms)
    return steps


def _check_cascade_labels(stream: str, stage: InferStageConfig, detector: str, service: AcceleratorService) -> None:
    """Labels the config could not check (a label file, the model's metadata) are checked once it is loaded."""
    handle = service.model(detector)
    known = handle.model.labels if isinstance(handle, TfliteModelHandle) else None
    wanted = stage.on.labels if stage.on is not None else None
    missing = [label for label in wanted or [] if known is not None and label not in known]
    if missing:
        raise ModelError(
            f"streams.{stream}.pipeline: cascade {stage.name!r}: model {detector!r} has no label "
            f"{missing[0]!r} (labels: {', '.join(known or ())})"
        )


def _sinks(
    config: RuntimeConfig,
    base_dir: Path,
    boot_id: str,
    printer: Callable[[str], None] | None,
    extra: dict[str, Sink],
    *,
    link: Transport | None,
) -> dict[str, Sink]:
    sinks: dict[str, Sink] = {name: _open_sink(name, c, base_dir, printer) for name, c in config.sinks.items()}
    if "console" not in sinks and any("console" in s.sinks for s in config.streams.values()):
        sinks["console"] = ConsoleSink("console", printer=printer)  # the built-in default, made only when used
    if config.cloud is not None:
        from cloud_sync import Uplink  # the outbox (sqlite3) loads only for a runtime with a `cloud:` section

        cloud = _with_outbox_under(config.cloud, base_dir)
        ranks = {name: s.priority for name, s in config.streams.items()}
        uplink = Uplink(cloud, config.device.id, link)
        sinks["cloud"] = CloudSink(
            cloud, config.device.id, boot_id, ranks, uplink=uplink, stats_interval_s=config.cloud.stats_interval_s
        )
    sinks.update(extra)
    return sinks


def _open_sink(name: str, config: SinkConfig, base_dir: Path, printer: Callable[[str], None] | None) -> Sink:
    """A sink that cannot open (its file turned bad after `validate`) fails alone, in one line: the streams run."""
    try:
        return build_sink(name, config, base_dir, printer)
    except OSError as exc:
        reason = f"sink:{name} stopped: cannot open: {exc} (the streams keep running without it; sink_failed)"
        log.error("%s", reason)
        return FailedSink(name, reason)


def _with_outbox_under(cloud: DeviceCloudConfig, base_dir: Path) -> DeviceCloudConfig:
    """The outbox path, like every relative path in a config, is relative to the config file."""
    path = Path(cloud.outbox.path)
    if path.is_absolute():
        return cloud
    outbox = cloud.outbox.model_copy(update={"path": base_dir / path})
    return cloud.model_copy(update={"outbox": outbox})


def _model_updates(
    config: RuntimeConfig,
    cloud: DeviceCloudConfig,
    transport: Transport | None,
    *,
    updates: ModelUpdatesConfig,
    service: AcceleratorService,
    frames: RecentFrames,
    base_dir: Path,
    plan: RuntimePlan,
) -> tuple[dict[str, Background], UpdateHistory]:
    """Signed model pushes on the device's one link, MQTT or ZeroMQ (the uplink runs it; over ZeroMQ the
    listener relays the pushes, see `cloud_sync.relay`)."""
    from cloud_sync.models import KeyFileError  # the receiver and cryptography: only with `cloud.models`
    from edge_runtime.updates import ModelUpdater

    device = config.device.id
    background: dict[str, Background] = {}
    if transport is None:
        raise ModelError("cloud.models: model updates need cloud.mqtt or cloud.zmq")
    link = transport
    try:
        updater = ModelUpdater(
            service=service, models=config.models, accel=config.accelerator, base_dir=base_dir,
            config=updates, frames=frames, link=link, device=device, prefix=cloud.topic_prefix, budget=plan,
        )  # fmt: skip
    except KeyFileError as exc:
        raise ModelError(f"cloud.models.trusted_keys: {exc}") from None
    background["models:updater"] = updater.run
    return background, updater.history


def _display_mode(display: str) -> Any:
    if display == "auto":
        return "tty" if sys.stdout.isatty() else "log"
    return display
