"""`bot.pacing`: a background build rests inside a `paced` block, on its own thread only, and waits
while an answer runs."""

from __future__ import annotations

import threading
import time

import pytest

from bot import pacing
from bot.evidence import Evidence
from bot.matching import Matcher
from bot.models import ReplyKind
from bot.pacing import FOREGROUND_WAIT_S, foreground, pace, paced
from bot.service import QAService

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


def test_a_paced_thread_waits_while_an_answer_runs_and_only_then() -> None:
    returned: list[float] = []
    started = threading.Event()

    def background() -> None:
        with paced(work_s=60.0, rest_s=REST):  # its share of work is not done: only answers stop it
            started.set()
            pace()
            returned.append(time.perf_counter())

    with foreground():
        other = threading.Thread(target=background)
        other.start()
        started.wait(5)
        time.sleep(0.02)  # the answer runs on; the paced thread must still be waiting
        assert not returned
        left = time.perf_counter()
    other.join(5)
    assert returned and left <= returned[0] < left + FOREGROUND_WAIT_S
    with paced(work_s=60.0, rest_s=REST):
        assert _timed(5) < 0.01  # no answer running: no wait


def test_a_paced_thread_waits_for_a_long_answer_a_bounded_time() -> None:
    took: list[float] = []

    def background() -> None:
        with paced(work_s=60.0, rest_s=REST):
            took.append(_timed(1))

    with foreground(), foreground():  # nested (two answers at once): both must end
        other = threading.Thread(target=background)
        other.start()
        other.join(5)
    assert took and FOREGROUND_WAIT_S * 0.9 <= took[0] < FOREGROUND_WAIT_S + REST
    assert _timed(5) < 0.01


def test_an_answer_is_foreground_work(fixture_service: QAService, monkeypatch: pytest.MonkeyPatch) -> None:
    service = fixture_service
    seen: list[bool] = []
    evidence = Matcher.evidence

    def watched(self: Matcher, text: str, limit: int | None = None, apart: str = "") -> list[Evidence]:
        seen.append(pacing._idle.is_set())  # a paced thread would wait now
        return evidence(self, text, limit, apart)

    monkeypatch.setattr(Matcher, "evidence", watched)
    assert service.answer("what is a pod").kind is ReplyKind.ANSWER
    assert seen == [False] and pacing._idle.is_set()
