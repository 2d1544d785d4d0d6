"""Big builds on a background thread that leave the event loop its speed: `pace()` calls in a
build's loops make the thread rest now and then while a `paced` block is active on it.

An answer on the event loop hands the interpreter lock over many times (each numpy call on a big
enough array releases it), and a busy background thread takes it back each time for up to the
switch interval: while a 10,000-entry snapshot is read, answers took 13-18 ms instead of ~1 ms.
Resting half the time, the thread leaves the loop windows in which answers run uncontended."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

WORK_S = 0.002  # work this long...
REST_S = 0.002  # ...then rest this long

_state = threading.local()  # this thread's [next rest at, work_s, rest_s], or None


@contextmanager
def paced(work_s: float = WORK_S, rest_s: float = REST_S) -> Iterator[None]:
    """Within the block, `pace()` on this thread rests ``rest_s`` after each ``work_s`` of work."""
    previous = getattr(_state, "pace", None)
    _state.pace = [time.perf_counter() + work_s, work_s, rest_s]
    try:
        yield
    finally:
        _state.pace = previous


def pace() -> None:
    """Rest here if this thread is in a `paced` block and has worked its share (cheap otherwise)."""
    state = getattr(_state, "pace", None)
    if state is not None and time.perf_counter() >= state[0]:
        time.sleep(state[2])
        state[0] = time.perf_counter() + state[1]
