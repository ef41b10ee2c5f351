"""A feature that is not configured costs no import: paho, pyzmq, sqlite3, cryptography, aiohttp stay unloaded.

Each case runs the real `edge-runtime --config FILE --duration S` (command line, config, build, streams, plan,
services) under `python -X importtime`, which names every module the process imports. An eager import added
anywhere on that path (a package `__init__`, a config model, a subcommand's registration) shows up here. The
memory this saves is measured, not asserted: `edge-runtime bench --only memory`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import cloud_sync
import cloud_sync.models
import edge_runtime.updates
from tests.support.ports import free_port

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


def loaded(config: Path) -> set[str]:
    """The heavy libraries a runtime process running `config` for a moment has imported."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "edge_runtime", "--config", str(config), "--duration", "1"],
        cwd=config.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    modules = {
        line.rpartition("|")[2].strip().partition(".")[0]
        for line in result.stderr.splitlines()
        if line.startswith("import time:")
    }
    assert "edge_runtime" in modules  # the report is read right
    return modules & set(HEAVY)


@pytest.mark.timeout(150)
def test_no_cloud_and_no_http_imports_none_of_the_heavy_libraries(tmp_path: Path) -> None:
    assert loaded(device_yaml(tmp_path, "http: {enabled: false}\n")) == set()


@pytest.mark.timeout(150)
def test_the_default_http_server_is_the_only_heavy_part_of_a_plain_config(tmp_path: Path) -> None:
    http = f"http: {{listen: '127.0.0.1:{free_port()}'}}\n"  # on by default: only its port is chosen here
    assert loaded(device_yaml(tmp_path, http)) == {"aiohttp", "prometheus_client"}


@pytest.mark.timeout(150)
def test_an_mqtt_link_loads_paho_and_the_outbox_but_neither_zeromq_nor_signatures(tmp_path: Path) -> None:
    cloud = "cloud:\n  mqtt: {host: 127.0.0.1, port: 1}\n  outbox: {path: outbox.db}\nhttp: {enabled: false}\n"
    assert loaded(device_yaml(tmp_path, cloud)) == {"paho", "sqlite3"}


@pytest.mark.parametrize("package", [cloud_sync, cloud_sync.models, edge_runtime.updates])
def test_every_public_name_of_a_lazy_package_resolves(package: object) -> None:
    names: list[str] = getattr(package, "__all__")  # noqa: B009 (mypy: a module object's attribute)
    missing = [name for name in names if getattr(package, name, None) is None]
    assert missing == []
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        getattr(package, "NoSuchName")  # noqa: B009
