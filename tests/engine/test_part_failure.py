"""A part that fails only at run time fails alone: one line naming it, the streams and the other sinks run on.

Files that are good when the config is validated and bad by the time the run uses them: the cloud link's TLS CA,
a JSONL sink's file."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sqlite3
import time
from pathlib import Path

import pytest

from edge_runtime.config import load_config
from edge_runtime.engine import build_runtime
from edge_runtime.sinks.failed import FailedSink
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
DIGITS = ROOT / "models" / "digits_uint8.tflite"
RUN_S = 2.5


def test_a_cloud_link_whose_tls_file_turns_bad_fails_alone(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")  # validate reads no further than "a small regular file"
    cfg = tmp_path / "device.yaml"
    cfg.write_text(
        f"""\
device: {{id: dev-01}}
accelerator: {{threads: 1}}
models:
  digits: {{path: {DIGITS}, decoder: classification}}
streams:
  digits:
    source: {{type: synthetic, fps: 20, width: 32, height: 32}}
    pipeline: [{{type: infer, model: digits}}]
    sinks: [out, cloud]
  readings:
    source: {{type: synthetic, kind: readings, fps: 20}}
    sinks: [out]
sinks:
  out: {{type: jsonl, path: out.jsonl}}
cloud:
  mqtt: {{host: 127.0.0.1, port: {free_port()}, tls: {{ca: {ca}}}}}
  outbox: {{path: outbox.db}}
status: {{display: off}}
http: {{enabled: false}}
"""
    )
    config = load_config(cfg)
    ca.write_bytes(b"\x00garbage, not a certificate\xff" * 10)  # turned bad after validate
    runtime, _service = build_runtime(config, cfg.parent, display="off")
    caplog.set_level(logging.ERROR)
    started = time.monotonic()
    asyncio.run(runtime.run(duration=RUN_S))
    assert time.monotonic() - started < RUN_S + 5.0
    assert runtime.failed == ["sink:cloud"]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, errors
    assert "sink:cloud" in errors[0]
    assert str(ca) in errors[0]
    assert "\n" not in errors[0]
    lines = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    late = [e for e in lines if e["ts_result"] > lines[0]["ts_result"] + RUN_S / 2]
    assert {e["stream"] for e in late} == {"digits", "readings"}  # both streams ran on after the failure
    digits = sum(1 for e in lines if e["stream"] == "digits")
    with sqlite3.connect(tmp_path / "outbox.db") as db:  # nothing sent to the failed link is lost: stored
        (stored,) = db.execute("SELECT COUNT(*) FROM outbox").fetchone()
    assert stored == digits > 10


def test_a_sink_that_cannot_open_fails_alone(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cfg = tmp_path / "device.yaml"
    cfg.write_text(
        """\
streams:
  a:
    source: {type: synthetic, kind: readings, fps: 20}
    sinks: [good, bad]
  b:
    source: {type: synthetic, kind: readings, fps: 20}
    sinks: [good]
sinks:
  good: {type: jsonl, path: good.jsonl}
  bad: {type: jsonl, path: bad.jsonl}
status: {display: off}
http: {enabled: false}
"""
    )
    config = load_config(cfg)
    os.mkfifo(tmp_path / "bad.jsonl")  # turned into a FIFO after validate
    caplog.set_level(logging.ERROR)
    runtime, _service = build_runtime(config, cfg.parent, display="off")
    asyncio.run(runtime.run(duration=1.0))
    assert runtime.failed == ["sink:bad"]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, errors
    assert "sink:bad" in errors[0]
    assert "bad.jsonl" in errors[0]
    good = [json.loads(line)["stream"] for line in (tmp_path / "good.jsonl").read_text().splitlines()]
    assert set(good) == {"a", "b"}
    bad = next(s for s in runtime.sinks if s.name == "bad")
    assert isinstance(bad, FailedSink)
    assert bad.drops.snapshot() == {"sink_failed": good.count("a")}
