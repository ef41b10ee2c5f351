"""Hot reload on a real runtime: a 30 fps stream stays untouched while ten reloads add and remove another;
a broken config changes nothing and logs its error lines."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

from tests.http.support import FACES, HTTP, Served, serve, wait_until

STEADY = f"""\
device: {{id: reload-01}}
{FACES}streams:
  steady:
    source: {{type: synthetic, fps: 30}}
    priority: high
    pipeline: [{{type: infer, model: faces}}]
    sinks: []
"""
OTHER = """\
  other:
    source: {type: synthetic, fps: 15, width: 160, height: 120}
    priority: low
    pipeline: [{type: infer, model: faces}]
    sinks: []
"""
SECONDS = 6.0


def _steady(runtime: Served) -> dict[str, Any]:
    return runtime.stream("steady")


def _run(tmp_path: Path, name: str, reloads: int) -> tuple[dict[str, Any], list[str]]:
    config = tmp_path / f"{name}.yaml"
    config.write_text(STEADY + HTTP)
    with serve(config) as runtime:
        wait_until(lambda: _steady(runtime)["fps_now"] > 20, 30, "the steady stream at speed")
        before = _steady(runtime)
        start = time.monotonic()
        for i in range(reloads):
            config.write_text(STEADY + (OTHER if i % 2 == 0 else "") + HTTP)
            runtime.proc.send_signal(signal.SIGHUP)
            names = {"steady", "other"} if i % 2 == 0 else {"steady"}
            wait_until(lambda names=names: {s["name"] for s in runtime.status()["streams"]} == names, 10, "reload")
            time.sleep(max(0.0, start + SECONDS * (i + 1) / reloads - time.monotonic()))
        time.sleep(max(0.0, start + SECONDS - time.monotonic()))
        after = _steady(runtime)
    log = runtime.log.read_text().splitlines()
    return {"before": before, "after": after}, log


def test_unchanged_stream_runs_through_ten_reloads(tmp_path: Path) -> None:
    quiet, _ = _run(tmp_path, "quiet", 0)
    busy, log = _run(tmp_path, "busy", 10)
    steady = busy["after"]
    assert steady["completed"] > busy["before"]["completed"] + 20 * SECONDS  # it ran all along
    assert steady["drops"].get("shutdown", 0) == 0  # never stopped or restarted by a reload
    assert steady["offered"] >= steady["completed"]
    assert sum("reload: stream 'other' started (added)" in line for line in log) == 5
    assert sum("reload: stream 'other' stopped (removed)" in line for line in log) == 5
    assert not any("reload: stream 'steady'" in line for line in log)
    ratio = steady["latency_ms"]["p99_ms"] / max(quiet["after"]["latency_ms"]["p99_ms"], 1e-3)
    print(
        f"\nsteady stream over {SECONDS:g} s: p99 {quiet['after']['latency_ms']['p99_ms']:.1f} ms without reloads, "
        f"{steady['latency_ms']['p99_ms']:.1f} ms with 10 reloads (x{ratio:.2f}); drops without "
        f"{json.dumps(quiet['after']['drops'])}, with {json.dumps(steady['drops'])}"
    )


def test_a_broken_config_changes_nothing_and_a_changed_model_swaps_in(tmp_path: Path) -> None:
    config = tmp_path / "broken.yaml"
    config.write_text(STEADY + HTTP)
    with serve(config) as runtime:
        config.write_text(STEADY.replace("fps: 30", "fps: -5") + OTHER + HTTP)
        code, body = _post(runtime, "api/reload")
        assert code == 400
        errors = json.loads(body)["errors"]
        assert len(errors) == 1
        assert errors[0].startswith(f"{config}:")
        assert "streams.steady.source.fps" in errors[0]
        runtime.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: runtime.log.read_text().count("reload refused: the running config is unchanged") == 2,
                   10, "the SIGHUP reload to be refused")  # fmt: skip
        assert [s["name"] for s in runtime.status()["streams"]] == ["steady"]
        completed = _steady(runtime)["completed"]
        wait_until(lambda: _steady(runtime)["completed"] > completed + 10, 10, "the steady stream still running")
        config.write_text(STEADY.replace("labels: [face]", "labels: [visage]") + HTTP)  # a changed model
        assert _post(runtime, "api/reload") == (200, b'{"ok": true, "errors": []}')
        completed = _steady(runtime)["completed"]
        wait_until(lambda: _steady(runtime)["completed"] > completed + 10, 10, "the stream on the new model")
    log = runtime.log.read_text()
    assert "streams.steady.source.fps" in log
    assert "reload: model 'faces' loaded and swapped in" in log
    assert "reload: stream 'steady'" not in log  # the stream itself was not restarted


def _post(runtime: Served, path: str) -> tuple[int, bytes]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(runtime.url + path, method="POST", data=b"")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status), bytes(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
