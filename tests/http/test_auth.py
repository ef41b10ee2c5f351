"""The bearer token: required to listen off loopback (at validate), and every request without it gets 401."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_runtime.cli import main
from tests.http.support import serve, ticks_config

TOKEN = "s3cret-token-0123456789"
BASE = ticks_config("auth-01")


def test_non_loopback_listen_without_token_is_refused_at_validate(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "open.yaml"
    config.write_text(BASE + "http: {listen: '0.0.0.0:8080'}\n")
    assert main(["validate", str(config)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert err[0].startswith(f"{config}:")
    assert "http: " in err[0]
    assert "not loopback: set http.token" in err[0]
    config.write_text(BASE + f"http: {{listen: '0.0.0.0:8080', token: {TOKEN}}}\n")
    assert main(["validate", str(config)]) == 0


def test_requests_without_the_token_get_401(tmp_path: Path) -> None:
    config = tmp_path / "token.yaml"
    config.write_text(BASE + f"http: {{listen: '127.0.0.1:${{env:EDGE_HTTP_PORT,8080}}', token: {TOKEN}}}\n")
    with serve(config, ready_path_token=TOKEN) as runtime:
        for path in ("", "metrics", "api/status", "healthz", "streams/ticks/latest.jpg"):
            assert runtime.get(path)[0] == 401, path
            assert runtime.get(path, token="wrong-token-0123456789")[0] == 401, path
        assert runtime.get("metrics", token=TOKEN)[0] == 200
        assert runtime.get(f"api/status?token={TOKEN}")[0] == 200  # how the console page passes it
