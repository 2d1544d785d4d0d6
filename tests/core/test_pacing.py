"""`bot.pacing`: a background build rests inside a `paced` block, on its own thread only."""

from __future__ import annotations

import threading
import time

from bot.pacing import pace, paced

REST = 0.2


def _timed(calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        pace()
    return time.perf_counter() - start


def test_pace_rests_only_inside_a_paced_block() -> None:
    assert _timed(5) < REST  # no block: no rest
    with paced(work_s=0.0, rest_s=REST):
        assert _timed(2) >= 2 * REST  # worked its share (none) at each call: rests each time
        with paced(work_s=60.0, rest_s=REST):
            assert _timed(5) < REST  # a nested block with a long share of work: no rest yet
        assert _timed(1) >= REST  # the outer block's pacing is back
    assert _timed(5) < REST


def test_pacing_is_per_thread() -> None:
    took: list[float] = []
    with paced(work_s=0.0, rest_s=REST):
        other = threading.Thread(target=lambda: took.append(_timed(5)))
        other.start()
        other.join()
    assert took and took[0] < REST
