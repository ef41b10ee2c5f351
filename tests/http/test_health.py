"""/healthz follows a real camera: 503 with one line naming the stream when the RTSP server is killed, 200 again
once it is back and frames flow."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.http.support import serve, wait_until
from tests.support.rtsp import RtspServer


@pytest.mark.video
def test_healthz_follows_a_camera_that_goes_down_and_returns(tmp_path: Path) -> None:
    camera = RtspServer(fps=10)
    camera.start()
    try:
        config = tmp_path / "cam.yaml"
        config.write_text(f"""\
device: {{id: health-01}}
streams:
  porch:
    source: {{type: camera, url: "{camera.url}", stall_timeout: 1.5, backoff_initial: 0.2, backoff_max: 1}}
    sinks: []
http: {{listen: "127.0.0.1:${{env:EDGE_HTTP_PORT,8080}}"}}
""")
        with serve(config) as runtime:
            wait_until(lambda: runtime.stream("porch")["completed"] > 0, 30, "frames from the camera")
            assert runtime.get("healthz") == (200, b"ok\n")
            camera.stop()
            wait_until(lambda: runtime.get("healthz")[0] == 503, 20, "/healthz to turn 503")
            lines = runtime.get("healthz")[1].decode().splitlines()
            assert len(lines) == 1, lines
            assert lines[0].startswith("stream 'porch': camera down, no frame for ")
            camera.start()
            wait_until(lambda: runtime.get("healthz")[0] == 200, 30, "/healthz to return to 200")
    finally:
        camera.stop()
