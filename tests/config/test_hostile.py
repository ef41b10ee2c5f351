"""Reproducers of hostile configs: each is one `FILE:LINE:COL: key: message` line and exit 2, never a traceback."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from edge_runtime.cli import main
from tests.config.hostile import GOOD, LINE, MODEL, alias_bomb, nested, with_cloud

LABELS = "labels: [zero, one, two, three, four, five, six, seven, eight, nine]"

# (name, config text, line, expected fragment); "{fifo}" stands for a FIFO the test makes
CASES = [
    ("list nested 5000 deep", f"device: {nested(5000, False)}\n", 1, "nested deeper than 64 levels"),
    ("mapping nested 5000 deep", f"device: {nested(5000, True)}\n", 1, "nested deeper than 64 levels"),
    ("tag int", GOOD.replace("fps: 5", "fps: !!int abc"), 9, "fps: cannot be read as !!int (value 'abc')"),
    ("tag bool", GOOD.replace("fps: 5", "fps: !!bool maybe"), 9, "cannot be read as !!bool"),
    ("tag timestamp", GOOD.replace("fps: 5", "fps: !!timestamp 2024-99-99"), 9, "cannot be read as !!timestamp"),
    ("unknown tag", GOOD.replace("fps: 5", "fps: !foo bar"), 9, "fps: unknown tag !foo"),
    ("tag on a mapping", GOOD.replace("{type: synthetic, fps: 5}", "!foo {type: synthetic}"), 9, "unknown tag !foo"),
    ("set", GOOD.replace("{id: test-01}", "!!set {a, b}"), 1, "device: unknown tag !!set on a mapping"),
    ("5000-char model path", GOOD.replace(str(MODEL), "/x" * 2500), 4, "models.digits.path: cannot use this path"),
    ("type error on a list", GOOD.replace("{id: test-01}", "{id: [a, b]}"), 1, "device.id: must be a valid string"),
    ("type error on a mapping", GOOD.replace("{id: test-01}", "{id: {a: 1}}"), 1, "device.id: must be a valid str"),
    ("key with a newline", GOOD.replace("fps: 5}", '"f\\nps": 5}'), 9, "source.f\\nps: unknown key"),
    ("control character", GOOD.replace("test-01", "te\x01st"), 1, "character #x01 is not allowed"),
    ("1 MB value", GOOD.replace("fps: 5", "fps: " + "a" * 1_000_000), 9, "(1000000 chars)"),
    ("5000-digit integer", GOOD.replace("fps: 5", "fps: " + "9" * 5000), 9, "cannot be read as !!int"),
    ("alias bomb", GOOD + alias_bomb(), 12, "once aliases are expanded"),
    ("malformed env", GOOD.replace("{id: test-01}", "\n  id: ${env:HOME"), 2, "malformed reference '${env:HOME'"),
    ("env without name", GOOD.replace("{id: test-01}", "\n  id: x${}y"), 2, "malformed reference '${}'"),
    ("group filter", with_cloud("  models:\n    groups: ['#']\n"), 14, "groups.0: a group name is one MQTT"),
    ("outbox a directory", with_cloud("  outbox: {path: /tmp}\n"), 13, "outbox.path: /tmp is a directory"),
    ("100 KB password", with_cloud(f"  mqtt: {{host: x, password: {'p' * 100_000}}}\n"), 13, "65535 bytes"),
    (
        "source password",
        GOOD.replace("{type: synthetic, fps: 5}", f"{{type: mqtt, topic: t, username: {'u' * 70_000}}}"),
        9,
        "source.username: longer than MQTT's limit",
    ),
    ("long device id", GOOD.replace("test-01", "d" * 1000), 1, "device.id: longer than 128 characters"),
    ("long client id", with_cloud(f"  mqtt: {{host: x, client_id: {'c' * 70_000}}}\n"), 13, "client_id: longer than"),
    ("backoff order", with_cloud("  mqtt: {host: x, backoff_initial: 10, backoff_max: 1}\n"), 13, "must be <= backoff"),
    ("labels /dev/zero", GOOD.replace(LABELS, "labels: /dev/zero"), 5, "labels: cannot read /dev/zero: a device"),
    ("jsonl sink a FIFO", GOOD + "sinks:\n  j: {type: jsonl, path: '{fifo}'}\n", 13, "is a FIFO, not a regular"),
    ("jsonl sink a dir", GOOD + "sinks:\n  j: {type: jsonl, path: /tmp}\n", 13, "/tmp is a directory"),
    ("TLS CA a FIFO", with_cloud("  mqtt: {host: x, tls: {ca: '{fifo}'}}\n"), 13, "tls.ca: cannot read"),
    ("trusted key a device", with_cloud("  mqtt: {host: x}\n  models: {trusted_keys: [/dev/zero]}\n"), 14, "a device"),
    ("trusted key too big", with_cloud("  mqtt: {host: x}\n  models: {trusted_keys: ['{big}']}\n"), 14, "larger than"),
]


@pytest.mark.parametrize(("name", "text", "line", "expected"), CASES, ids=[c[0] for c in CASES])
def test_hostile_config_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, line: int, expected: str
) -> None:
    fifo, big = tmp_path / "fifo", tmp_path / "big.pem"
    os.mkfifo(fifo)
    with big.open("wb") as f:
        f.truncate(50 * 1024**2)  # sparse: 50 MB that take no disk
    path = tmp_path / "cfg.yaml"
    path.write_text(text.replace("{fifo}", str(fifo)).replace("{big}", str(big)))
    start = time.monotonic()
    code = main(["validate", str(path)])
    elapsed = time.monotonic() - start
    err = capsys.readouterr().err.splitlines()
    assert code == 2, name
    assert len(err) == 1, err
    assert len(err[0]) < 300, err[0][:400]
    match = LINE.match(err[0])
    assert match is not None, err[0]
    assert match["file"] == str(path), err[0]
    assert int(match["line"]) == line, err[0]
    assert expected in err[0], err[0]
    assert elapsed < 5, f"{name}: validate took {elapsed:.1f}s"


def test_run_refuses_what_validate_refuses(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`run` loads the config the same way: a FIFO sink path stops it before anything starts, in one line."""
    os.mkfifo(tmp_path / "fifo")
    path = tmp_path / "cfg.yaml"
    path.write_text(GOOD + f"sinks:\n  j: {{type: jsonl, path: {tmp_path / 'fifo'}}}\n")
    assert main(["run", "--config", str(path), "--duration", "1"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    assert "is a FIFO" in err[0], err


def test_an_unknown_users_home_is_a_missing_file_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "cfg.yaml"
    path.write_text(GOOD.replace(LABELS, "labels: ~no-such-user-here/labels.txt"))
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1, err
    assert "models.digits.labels: cannot read" in err[0]
