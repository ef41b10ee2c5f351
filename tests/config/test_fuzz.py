"""Fuzz `edge-runtime validate` with seeded mutants of good configs: no traceback, no hang, one short line each.

A seeded generator (the seed is printed, `EDGE_FUZZ_SEED=N` replays a run) makes MUTANTS configs by replacing
a value, a key or a line with hostile text, deleting, duplicating or truncating. Each is validated in-process
through the CLI entry point, as a user runs it.
"""

from __future__ import annotations

import io
import os
import random
import time
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from edge_runtime.cli import main
from tests.config.hostile import GOOD, LINE, alias_bomb, nested

MUTANTS = int(os.environ.get("EDGE_FUZZ_MUTANTS", "400"))
PER_CASE_S = 5.0
MAX_LINE = 300

RICH = (
    GOOD
    + """\
  sensor:
    source: {type: mqtt, host: localhost, topic: 'env/+/temp', field: temp, backoff_initial: 1, backoff_max: 5}
    sinks: [console, file, cloud]
    priority: low
sinks:
  file: {type: jsonl, path: out/results.jsonl}
cloud:
  mqtt: {host: localhost, port: 1883, username: dev, password: '${env:EDGE_FUZZ_PW,secret}', keepalive: 30}
  outbox: {path: var/outbox.db, max_bytes: 1MiB, ttl: 1d}
  models: {groups: [lab], trusted_keys: []}
status: {interval_s: 1, display: log}
thermal: {warm_c: 70, hot_c: 80, warm: {fps_factor: 0.5, classes: [low]}}
"""
)

# fmt: off
HOSTILE = [
    "!!int abc", "!!bool maybe", "!!timestamp 2024-99-99", "!foo bar", "!!float x", "!!binary '@@'", "!!set {a}",
    "9" * 5000, "1e400", "-1", "0", ".nan", ".inf", "null", "~", "[]", "{}", "[a, b]", "{a: 1}", "''",
    "'" + "a" * 20000 + "'", "'\\x01'", '"a\\nb"', '"\\u2028"', "${env:", "${env:X", "${}", "${env:1X}", "'#'",
    "'+'", "/dev/zero", "/tmp", "{fifo}", "/" + "x" * 5000, "&a [*a]", "*nope", nested(200, False),
    nested(200, True), "? [a]\n  : b", "|\n  block", "\t", "'\\0'", "🙂" * 100, "true", "no", "0x1F", "0o17",
]
# fmt: on
KEYS = ['"k\\ny"', "'\\x7f'", "fps", "type", "<<", "'" + "k" * 3000 + "'", "1", "null", "[a]"]


def mutate(text: str, rng: random.Random) -> str:
    lines = text.splitlines()
    i = rng.randrange(len(lines))
    line = lines[i]
    op = rng.randrange(8)
    if op == 0 and ":" in line:  # replace a value
        head = line[: line.index(":") + 1]
        lines[i] = f"{head} {rng.choice(HOSTILE)}"
    elif op == 1 and ":" in line:  # replace a key
        indent = len(line) - len(line.lstrip())
        lines[i] = " " * indent + rng.choice(KEYS) + line[line.index(":") :]
    elif op == 2:
        del lines[i]
    elif op == 3:
        lines.insert(i, line)
    elif op == 4:
        lines.insert(i, " " * rng.randrange(6) + rng.choice(HOSTILE))
    elif op == 5:
        cut = rng.randrange(len(text))
        return text[:cut] + rng.choice(HOSTILE) + text[cut + rng.randrange(8) :]
    elif op == 6:
        return text[: rng.randrange(len(text))]
    else:
        lines.insert(i, rng.choice([alias_bomb(rng.randrange(3, 8), rng.randrange(3, 10)), "x: " + nested(3000, True)]))
    out = "\n".join(lines) + "\n"
    return mutate(out, rng) if rng.random() < 0.3 else out


def validate(path: Path) -> tuple[object, list[str], float]:
    err = io.StringIO()
    start = time.monotonic()
    with redirect_stderr(err), redirect_stdout(io.StringIO()):
        try:
            code: object = main(["validate", str(path)])
        except BaseException as exc:  # anything escaping main() is a traceback
            code = f"{type(exc).__name__}: {str(exc)[:200]}"
    return code, err.getvalue().splitlines(), time.monotonic() - start


def test_mutated_configs_give_one_short_line_each(tmp_path: Path) -> None:
    seed = int(os.environ.get("EDGE_FUZZ_SEED", random.randrange(2**32)))
    print(f"EDGE_FUZZ_SEED={seed}")
    rng = random.Random(seed)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    failures: list[str] = []
    rejected = slowest = 0.0
    for n in range(MUTANTS):
        text = mutate(rng.choice([GOOD, RICH]), rng).replace("{fifo}", str(fifo))
        path = tmp_path / f"m{n}.yaml"
        data = text.encode("utf-8", errors="surrogatepass")
        if rng.random() < 0.05:  # raw bytes: invalid UTF-8, NUL, a BOM in the middle
            cut = rng.randrange(len(data) + 1)
            data = data[:cut] + rng.choice([b"\xff\xfe", b"\x00", b"\xef\xbb\xbf", rng.randbytes(8)]) + data[cut:]
        path.write_bytes(data)
        code, err, elapsed = validate(path)
        slowest = max(slowest, elapsed)
        rejected += code == 2
        bad = [line for line in err if not LINE.match(line) or len(line) >= MAX_LINE]
        if code not in (0, 2) or bad or (code == 2 and not err) or elapsed > PER_CASE_S:
            failures.append(f"{path.name}: exit {code}, {elapsed:.1f}s, {[b[:200] for b in bad[:2]]}")
        else:
            path.unlink()
    print(f"{MUTANTS} mutants, {rejected:.0f} rejected, slowest validate {slowest:.2f}s")
    assert not failures, f"seed {seed}: " + "; ".join(failures[:5])
