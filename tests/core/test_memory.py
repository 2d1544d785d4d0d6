"""`bot.memory.paused_gc`: no cyclic collection inside, the collector back on after, and heap pages
handed back only by the outermost block (a hot reload pauses without trimming: trimming holds
malloc's lock while the event loop allocates)."""

from __future__ import annotations

import gc
import threading

import numpy as np
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


class _FakeLibc:
    def __init__(self) -> None:
        self.calls = 0

    def malloc_trim(self, pad: int) -> int:
        self.calls += 1
        return 1


def test_a_build_inside_a_block_that_does_not_trim_does_not_trim_either(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The build's own trims (between its steps, while draining chunks) wait, in a serving
    process, for the block that said not to trim: the hot reload's."""
    libc = _FakeLibc()
    monkeypatch.setattr(memory, "_libc", libc)
    with memory.paused_gc(trim=False):
        with memory.paused_gc():  # the index build's own block
            memory.release_memory()
            memory.drain([np.arange(10), np.arange(10)], np.int64)
        memory.release_memory()
    assert libc.calls == 0
    memory.release_memory()  # outside any block
    monkeypatch.setattr(memory, "_DRAINED_PER_TRIM", 1)
    with memory.paused_gc():
        memory.drain([np.arange(10), np.arange(10)], np.int64)  # a trim after each chunk
    assert libc.calls == 1 + 2 + 1  # the call outside, one per chunk, the block's own at its end
