"""With XNNPACK the model file's pages are given back once the weights are packed, and the outputs are unchanged."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_runtime.inference import LiteInterpreter
from edge_runtime.inference._pages import _read_only_ranges, release
from edge_runtime.sections import AcceleratorConfig

MODEL = (Path(__file__).resolve().parents[2] / "models" / "mobilenet_v2_int8.tflite").resolve()


def resident_kib(path: Path) -> int:
    """Resident KiB of this process's mappings of `path` (/proc/self/smaps)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if "-" in fields[0] and not line[0].isupper():
            inside = line.endswith(str(path))
        elif inside and fields[0] == "Rss:":
            total += int(fields[1])
    return total


def outputs(interp: LiteInterpreter, image: np.ndarray) -> np.ndarray:
    interp.set_input(image)
    interp.invoke()
    return interp.raw_outputs()[0].copy()


def test_an_xnnpack_interpreter_keeps_little_of_the_file_resident_and_answers_the_same() -> None:
    plain = LiteInterpreter(MODEL, AcceleratorConfig(threads=1, delegate="none"), "plain")
    image = np.random.default_rng(0).integers(0, 255, plain.inputs[0].shape, dtype=np.uint8)
    expected = outputs(plain, image)  # the plain CPU kernels read the weights from the file: they are resident
    plain_kib = resident_kib(MODEL)
    assert plain_kib > 1000
    del plain
    packed = LiteInterpreter(MODEL, AcceleratorConfig(threads=1, delegate="xnnpack"), "packed")
    for _ in range(5):
        got = outputs(packed, image)
    # the packed kernels never read the weights there again; the few graph pages an invoke reads come back with
    # the kernel's fault-around (how many depends on the page cache), far from the whole file
    assert resident_kib(MODEL) < plain_kib / 4
    assert np.argmax(got) == np.argmax(expected)
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 2  # same model, other kernels: a quantum or two


def test_release_drops_only_read_only_mappings_of_that_file() -> None:
    maps = "\n".join(
        [
            f"7f0000000000-7f0000400000 r--s 00000000 08:01 12 {MODEL}",
            f"7f0000400000-7f0000500000 rw-p 00000000 08:01 12 {MODEL}",
            "7f0000500000-7f0000600000 r--p 00000000 08:01 13 /usr/lib/other.so",
            "7f0000600000-7f0000700000 rw-p 00000000 00:00 0",
        ]
    )
    assert _read_only_ranges(MODEL, maps) == [(0x7F0000000000, 0x7F0000400000)]
    assert release(Path("/nonexistent/model.tflite")) == 0
