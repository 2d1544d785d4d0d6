"""Big builds on a background thread that leave the event loop its speed: `pace()` calls in a
build's loops make the thread rest now and then while a `paced` block is active on it.

An answer on the event loop hands the interpreter lock over many times (each numpy call on a big
enough array releases it), and a busy background thread takes it back each time for up to the
switch interval: while a 10,000-entry snapshot is read, answers took 13-18 ms instead of ~1 ms.
Resting half the time, the thread leaves the loop windows in which answers run uncontended.

Answers also mark themselves (`foreground`): a paced thread that reaches `pace()` while one runs
waits for it to end. On two cores the two threads otherwise took the lock from each other at every
switch interval, and answers during a 10k-entry warm-up took 4-8 ms instead of 2."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

WORK_S = 0.002  # work this long...
REST_S = 0.002  # ...then rest this long

FOREGROUND_WAIT_S = 0.05  # the longest `pace()` waits at a time for answers in flight

_state = threading.local()  # this thread's [next rest at, work_s, rest_s], or None
_count_lock = threading.Lock()
_running = 0  # `foreground` blocks running now, on any thread
_idle = threading.Event()  # set when none runs
_idle.set()


@contextmanager
def paced(work_s: float = WORK_S, rest_s: float = REST_S) -> Iterator[None]:
    """Within the block, `pace()` on this thread rests ``rest_s`` after each ``work_s`` of work."""
    previous = getattr(_state, "pace", None)
    _state.pace = [time.perf_counter() + work_s, work_s, rest_s]
    try:
        yield
    finally:
        _state.pace = previous


@contextmanager
def foreground() -> Iterator[None]:
    """Work someone is waiting for (an answer): while any runs, on any thread, `pace()` waits for
    it to end (up to ``FOREGROUND_WAIT_S`` at a time) rather than take turns with it."""
    global _running
    with _count_lock:
        _running += 1
        _idle.clear()
    try:
        yield
    finally:
        with _count_lock:
            _running -= 1
            if not _running:
                _idle.set()


def pace() -> None:
    """Rest here if this thread is in a `paced` block and has worked its share, and wait while
    `foreground` work runs (cheap otherwise)."""
    state = getattr(_state, "pace", None)
    if state is None:
        return
    if not _idle.is_set():
        _idle.wait(FOREGROUND_WAIT_S)
    if time.perf_counter() >= state[0]:
        time.sleep(state[2])
        state[0] = time.perf_counter() + state[1]
