"""The lanes' wake-up of the loop: an eventfd the loop watches, or `call_soon_threadsafe` where there is none."""

from __future__ import annotations

import asyncio
import gc
import os
import threading

import pytest

from edge_runtime.scheduler import _wake
from edge_runtime.scheduler._wake import LoopWaker


class _Calls:
    def __init__(self) -> None:
        self.threads: list[str] = []
        self.event = asyncio.Event()

    def __call__(self) -> None:
        self.threads.append(threading.current_thread().name)
        self.event.set()


async def _woken_from_a_thread(waker: LoopWaker, calls: _Calls) -> None:
    await asyncio.to_thread(waker.wake)
    await asyncio.wait_for(calls.event.wait(), 2)


@pytest.fixture(params=["eventfd", "call_soon_threadsafe"])
def mechanism(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "call_soon_threadsafe":
        monkeypatch.delattr(os, "eventfd")  # as on a system without it
    return str(request.param)


def test_a_wake_from_a_thread_calls_back_on_the_loop(mechanism: str) -> None:
    asyncio.run(_a_wake_from_a_thread_calls_back_on_the_loop(mechanism))


async def _a_wake_from_a_thread_calls_back_on_the_loop(mechanism: str) -> None:
    calls = _Calls()
    waker = LoopWaker(asyncio.get_running_loop(), calls)
    assert waker.uses_eventfd is (mechanism == "eventfd")
    await _woken_from_a_thread(waker, calls)
    assert calls.threads == [threading.current_thread().name]  # the loop's thread, not the waking one


def test_wakes_before_the_loop_turns_make_one_call_and_none_is_lost(mechanism: str) -> None:
    asyncio.run(_wakes_before_the_loop_turns_make_one_call_and_none_is_lost(mechanism))


async def _wakes_before_the_loop_turns_make_one_call_and_none_is_lost(mechanism: str) -> None:
    del mechanism
    calls = _Calls()
    waker = LoopWaker(asyncio.get_running_loop(), calls)

    def burst() -> None:
        for _ in range(100):
            waker.wake()

    await asyncio.to_thread(burst)
    await asyncio.wait_for(calls.event.wait(), 2)
    await asyncio.sleep(0.05)
    first = len(calls.threads)
    assert 1 <= first <= 100
    calls.event.clear()
    await _woken_from_a_thread(waker, calls)  # after the burst was taken: a new wake is a new call
    assert len(calls.threads) == first + 1


def test_a_wake_during_the_callback_is_seen_on_the_next_turn() -> None:
    asyncio.run(_a_wake_during_the_callback_is_seen_on_the_next_turn())


async def _a_wake_during_the_callback_is_seen_on_the_next_turn() -> None:
    calls: list[int] = []
    done = asyncio.Event()
    waker: LoopWaker

    def callback() -> None:
        calls.append(len(calls))
        if len(calls) == 1:
            threading.Thread(target=waker.wake).start()  # lands while this runs or just after: either way seen
            threading.Event().wait(0.05)
        else:
            done.set()

    waker = LoopWaker(asyncio.get_running_loop(), callback)
    await asyncio.to_thread(waker.wake)
    await asyncio.wait_for(done.wait(), 2)
    assert calls == [0, 1]


def test_a_wake_after_the_loop_closed_is_harmless_and_the_fd_is_closed_once_the_waker_is_freed(
    mechanism: str,
) -> None:
    calls = _Calls()

    async def make() -> LoopWaker:
        return LoopWaker(asyncio.get_running_loop(), calls)

    waker = asyncio.run(make())
    fd = waker._fd
    thread = threading.Thread(target=waker.wake)  # a lane abandoned at stop, returning late
    thread.start()
    thread.join()
    assert calls.threads == []
    if mechanism == "eventfd":
        assert fd is not None
        os.fstat(fd)  # still open: a late writer holds the waker
        del waker
        gc.collect()
        with pytest.raises(OSError, match="Bad file descriptor"):
            os.fstat(fd)


def test_no_eventfd_where_the_loop_cannot_watch_one(monkeypatch: pytest.MonkeyPatch) -> None:
    class _Proactor:
        def add_reader(self, *args: object) -> None:
            raise NotImplementedError

    closed: list[int] = []
    real_close = os.close

    def close(fd: int) -> None:
        closed.append(fd)
        real_close(fd)

    monkeypatch.setattr(os, "close", close)
    assert _wake._watched_eventfd(_Proactor(), lambda: None) is None  # type: ignore[arg-type]
    assert len(closed) == 1  # the fd it made is not leaked
