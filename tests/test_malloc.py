"""Malloc arenas: with `limit_arenas`, threads that allocate share two arenas instead of one each (glibc)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from edge_runtime._malloc import ARENAS, limit_arenas

_CHILD = textwrap.dedent(
    """
    import ctypes, sys, threading
    from edge_runtime._malloc import limit_arenas
    print(limit_arenas() if sys.argv[1] == "limit" else "unset", flush=True)
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = (ctypes.c_void_p,)
    start = threading.Barrier(6)
    def allocate():
        start.wait()
        for _ in range(200):
            libc.free(libc.malloc(4000))
    threads = [threading.Thread(target=allocate) for _ in range(6)]
    for t in threads: t.start()
    for t in threads: t.join()
    libc.malloc_stats()  # one "Arena N:" block per arena, on stderr
    """
)


def _arenas(mode: str, env: dict[str, str]) -> tuple[str, int]:
    """Run 6 allocating threads in a child (limited or not); what `limit_arenas` said and the arenas glibc made."""
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, mode], capture_output=True, text=True, timeout=60, env=env, check=True
    )
    return proc.stdout.strip(), sum(line.startswith("Arena ") for line in proc.stderr.splitlines())


@pytest.fixture
def no_arena_env(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    return dict(os.environ)


def test_threads_share_the_limited_arenas(no_arena_env: dict[str, str]) -> None:
    said, arenas = _arenas("limit", no_arena_env)
    assert said == "True"
    assert 1 <= arenas <= ARENAS


def test_without_the_limit_each_thread_gets_an_arena(no_arena_env: dict[str, str]) -> None:
    said, arenas = _arenas("unset", no_arena_env)  # what the limit saves: the test above could fail
    assert said == "unset"
    assert arenas > ARENAS + 2


def test_the_environment_wins(no_arena_env: dict[str, str]) -> None:
    said, arenas = _arenas("limit", {**no_arena_env, "MALLOC_ARENA_MAX": "3"})
    assert said == "False"  # glibc took the operator's value at start-up; nothing is changed
    assert 1 <= arenas <= 3


def test_limit_arenas_in_this_process_reports_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    assert limit_arenas() is False
