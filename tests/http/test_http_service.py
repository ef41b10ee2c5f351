"""The HTTP server is one of the runtime's services: it answers while the runtime runs (and while its streams
drain) and its port is closed once `run` returns."""

from __future__ import annotations

import asyncio
import logging
import socket
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from edge_runtime.config import load_config
from edge_runtime.engine import build_runtime
from tests.http.support import ticks_config
from tests.support.ports import free_port


def get(port: int, path: str) -> int:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/{path}", timeout=5) as response:
        return int(response.status)


def test_the_server_answers_while_running_and_its_port_closes_at_exit(tmp_path: Path) -> None:
    port = free_port()
    path = tmp_path / "ticks.yaml"
    path.write_text(ticks_config("svc-01", fps=20) + f'http: {{listen: "127.0.0.1:{port}"}}\n')
    runtime, _ = build_runtime(load_config(path), tmp_path, display="off")
    seen: list[int] = []

    async def scenario() -> None:
        run = asyncio.create_task(runtime.run())
        for _ in range(200):  # the server imports its libraries in a thread: up to 20 s on a loaded machine
            await asyncio.sleep(0.1)
            try:
                seen.append(await asyncio.to_thread(get, port, "readyz"))
                break
            except OSError:
                continue
        runtime.stop()
        await run

    asyncio.run(scenario())
    assert seen == [200]
    with pytest.raises(urllib.error.URLError) as refused:  # the port is closed: nothing answers any more
        get(port, "readyz")
    assert isinstance(refused.value.reason, ConnectionRefusedError), refused.value


def test_a_port_in_use_is_one_error_line_at_start_and_the_streams_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        path = tmp_path / "ticks.yaml"
        path.write_text(ticks_config("svc-02", fps=20) + f'http: {{listen: "127.0.0.1:{port}"}}\n')
        runtime, _ = build_runtime(load_config(path), tmp_path, display="off")
        with caplog.at_level(logging.ERROR, logger="edge_runtime.http"):
            asyncio.run(runtime.run(1.0))
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [
        f"http.listen 127.0.0.1:{port}: error while attempting to bind on address ('127.0.0.1', {port}): "
        "address already in use: console and metrics are off"
    ]
    assert runtime.streams[0].runner.stats.offered > 0
