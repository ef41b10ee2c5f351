"""Checks of what a run would meet only later: files the config names, broker limits, ordered settings.

Each is refused by `edge-runtime validate` (and by `run` before anything starts) with one line, instead of a
run that hangs on a FIFO, reads `/dev/zero` until memory runs out, or dies of a struct error at connect time.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import SecretStr

from edge_runtime.config._models import RuntimeConfig
from edge_runtime.config._yaml import Path_
from edge_runtime.files import directory_problem, file_problem, resolve_path
from edge_runtime.sinks.configs import JsonlSinkConfig

Report = Callable[[Path_, str], None]
MQTT_STRING_BYTES = 65535  # MQTT encodes user name, password, client id and topics with a 2-byte length
NAME_CHARS = 128  # a device id or stream name: one MQTT topic level


def check_resources(config: RuntimeConfig, base_dir: Path, problem: Report) -> None:
    _name(("device", "id"), config.device.id, problem)
    for name, model in config.models.items():
        if isinstance(model.labels, str):
            _file(("models", name, "labels"), resolve_path(base_dir, model.labels), problem)
    for name, sink in config.sinks.items():
        if isinstance(sink, JsonlSinkConfig):
            _writable(("sinks", name, "path"), resolve_path(base_dir, sink.path), problem)
    for name, stream in config.streams.items():
        _name(("streams", name), name, problem)
        source = stream.source
        for key in ("username", "password", "client_id"):
            _mqtt_string(("streams", name, "source", key), getattr(source, key, None), problem)
    if config.cloud is not None:
        _check_cloud(config, base_dir, problem)


def _check_cloud(config: RuntimeConfig, base_dir: Path, problem: Report) -> None:
    cloud = config.cloud
    assert cloud is not None
    _writable(("cloud", "outbox", "path"), resolve_path(base_dir, str(cloud.outbox.path)), problem)
    mqtt = cloud.mqtt
    if mqtt is not None:
        if mqtt.backoff_initial > mqtt.backoff_max:
            message = f"must be <= backoff_max ({mqtt.backoff_max:g}), got {mqtt.backoff_initial:g}"
            problem(("cloud", "mqtt", "backoff_initial"), message)
        _mqtt_string(("cloud", "mqtt", "username"), mqtt.username, problem)
        _mqtt_string(("cloud", "mqtt", "password"), mqtt.password, problem)
        _mqtt_string(("cloud", "mqtt", "client_id"), mqtt.client_id, problem)
        for key in ("ca", "cert", "key"):
            path = getattr(mqtt.tls, key, None) if mqtt.tls is not None else None
            if path is not None:  # TLS files are opened as given (relative to the working directory)
                _file(("cloud", "mqtt", "tls", key), Path(path), problem)
    if cloud.zmq is not None and cloud.zmq.curve is not None:
        _file(("cloud", "zmq", "curve", "server_key"), cloud.zmq.curve.server_key, problem)
        _file(("cloud", "zmq", "curve", "client_key"), cloud.zmq.curve.client_key, problem)
    if cloud.models is not None:
        for i, key_path in enumerate(cloud.models.trusted_keys):
            _file(("cloud", "models", "trusted_keys", i), base_dir / key_path, problem)
        for i, group in enumerate(cloud.models.groups):
            if not group or any(c in group for c in "+#/\0"):
                problem(("cloud", "models", "groups", i), "a group name is one MQTT topic level: no '+', '#' or '/'")


def _file(key: Path_, path: Path, problem: Report) -> None:
    reason = file_problem(path)
    if reason is not None:
        problem(key, reason)


def _writable(key: Path_, path: Path, problem: Report) -> None:
    reason = directory_problem(path)
    if reason is not None:
        problem(key, reason)


def _name(key: Path_, name: str, problem: Report) -> None:
    if len(name) > NAME_CHARS:
        problem(key, f"longer than {NAME_CHARS} characters (it becomes an MQTT topic level)")


def _mqtt_string(key: Path_, value: object, problem: Report) -> None:
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if isinstance(text, str) and len(text.encode("utf-8", "surrogatepass")) > MQTT_STRING_BYTES:
        problem(key, f"longer than MQTT's limit of {MQTT_STRING_BYTES} bytes")
