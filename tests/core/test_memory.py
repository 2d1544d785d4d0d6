"""`bot.memory.paused_gc`: no cyclic collection inside, the collector back on after, and heap pages
handed back only by the outermost block (a hot reload pauses without trimming: trimming holds
malloc's lock while the event loop allocates)."""

from __future__ import annotations

import gc
import threading

import pytest

from bot import memory


@pytest.fixture
def trims(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    monkeypatch.setattr(memory, "release_memory", lambda: calls.append(threading.current_thread().name))
    return calls


def test_a_block_pauses_the_collector_and_trims_after(trims: list[str]) -> None:
    assert gc.isenabled()
    with memory.paused_gc():
        assert not gc.isenabled()
        assert trims == []
    assert gc.isenabled() and len(trims) == 1


def test_the_outermost_block_decides_whether_to_trim(trims: list[str]) -> None:
    with memory.paused_gc(trim=False):
        with memory.paused_gc():  # as the index cache's read inside a hot reload
            pass
        assert not gc.isenabled()  # still paused: the outer block is not over
    assert gc.isenabled() and trims == []
    with memory.paused_gc():
        with memory.paused_gc(trim=False):
            pass
        assert trims == []
    assert len(trims) == 1


def test_nesting_is_counted_per_thread(trims: list[str]) -> None:
    """A block in another thread is its own outermost block (and trims), whatever this one does."""
    with memory.paused_gc(trim=False):
        other = threading.Thread(target=_block, name="other")
        other.start()
        other.join()
    assert trims == ["other"]


def _block() -> None:
    with memory.paused_gc():
        pass
