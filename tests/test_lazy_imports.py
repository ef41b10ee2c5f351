"""A feature that is not configured costs no import: paho, pyzmq, sqlite3, cryptography, aiohttp stay unloaded.

Each case runs the real `edge-runtime --config FILE --duration S` (command line, config, build, streams, plan,
services) under `python -X importtime`, which names every module the process imports. An eager import added
anywhere on that path (a package `__init__`, a config model, a subcommand's registration) shows up here. The
memory this saves is measured, not asserted: `edge-runtime bench --only memory`.
"""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

import cloud_sync
import cloud_sync.models
import edge_runtime.updates
from tests.support.ports import free_port, stop_process, wait_for_port

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("paho", "zmq", "sqlite3", "cryptography", "aiohttp", "prometheus_client")


def device_yaml(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "device.yaml"
    path.write_text(
        f"""\
device: {{id: lazy-01}}
accelerator: {{threads: 1}}
models:
  digits:
    path: {ROOT / "models" / "digits_uint8.tflite"}
    labels: {ROOT / "models" / "digits_labels.txt"}
    decoder: classification
streams:
  digits:
    source: {{type: synthetic, fps: 10, width: 32, height: 32}}
    pipeline: [{{type: infer, model: digits}}, {{type: tracker}}]
    sinks: [out]
sinks:
  out: {{type: memory}}
status: {{display: off}}
{extra}"""
    )
    return path


def loaded(config: Path, *, ask: int | None = None) -> set[str]:
    """The heavy libraries a runtime process running `config` for a second has imported; with `ask`, once it
    has answered a health check on that port (then stopped with SIGTERM: a clean stop)."""
    seconds = "1" if ask is None else "120"
    command = [sys.executable, "-X", "importtime", "-m", "edge_runtime", "--config", str(config), "--duration", seconds]
    report = config.with_suffix(".importtime")
    with report.open("wb") as err:
        proc = subprocess.Popen(command, cwd=config.parent, stdout=subprocess.DEVNULL, stderr=err)
    try:
        if ask is not None:
            wait_for_port(ask, timeout=60)
            with urllib.request.urlopen(f"http://127.0.0.1:{ask}/healthz", timeout=60) as response:
                assert response.status == 200
            stop_process(proc, timeout=30)
        proc.wait(timeout=120)
    finally:
        stop_process(proc)
    assert proc.returncode == 0, report.read_text(errors="replace")[-2000:]
    return heavy_in(report.read_text(errors="replace"))


def heavy_in(importtime: str) -> set[str]:
    """The heavy libraries named in a `python -X importtime` report."""
    imported = (line.rpartition("|")[2].strip() for line in importtime.splitlines() if line.startswith("import time:"))
    modules = {name.partition(".")[0] for name in imported}
    assert "edge_runtime" in modules  # the report is read right
    return modules & set(HEAVY)


@pytest.mark.timeout(150)
def test_no_cloud_and_no_http_imports_none_of_the_heavy_libraries(tmp_path: Path) -> None:
    assert loaded(device_yaml(tmp_path, "http: {enabled: false}\n")) == set()


@pytest.mark.timeout(150)
def test_the_http_server_loads_its_libraries_with_its_first_client(tmp_path: Path) -> None:
    port = free_port()
    http = f"http: {{listen: '127.0.0.1:{port}'}}\n"  # on by default: only its port is chosen here
    assert loaded(device_yaml(tmp_path, http)) == set()  # listening, nobody asked
    assert loaded(device_yaml(tmp_path, http), ask=port) == {"aiohttp", "prometheus_client"}


@pytest.mark.timeout(150)
def test_an_mqtt_link_loads_paho_and_the_outbox_but_neither_zeromq_nor_signatures(tmp_path: Path) -> None:
    cloud = "cloud:\n  mqtt: {host: 127.0.0.1, port: 1}\n  outbox: {path: outbox.db}\nhttp: {enabled: false}\n"
    assert loaded(device_yaml(tmp_path, cloud)) == {"paho", "sqlite3"}


@pytest.mark.timeout(150)
def test_validating_a_cloud_and_model_updates_config_loads_no_link_and_no_signature_library(tmp_path: Path) -> None:
    cloud = """\
cloud:
  mqtt: {host: 127.0.0.1, port: 1}
  outbox: {path: outbox.db}
  models: {trusted_keys: [fleet.pub], dir: store}
"""
    config = device_yaml(tmp_path, cloud)
    (tmp_path / "fleet.pub").write_text("validate checks that the key file can be read; the runtime parses it\n")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "edge_runtime", "validate", str(config)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert "ok (1 streams, 1 models)" in done.stdout
    assert heavy_in(done.stderr) == set()


@pytest.mark.parametrize("package", [cloud_sync, cloud_sync.models, edge_runtime.updates])
def test_every_public_name_of_a_lazy_package_resolves(package: object) -> None:
    names: list[str] = getattr(package, "__all__")  # noqa: B009 (mypy: a module object's attribute)
    missing = [name for name in names if getattr(package, name, None) is None]
    assert missing == []
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        getattr(package, "NoSuchName")  # noqa: B009
