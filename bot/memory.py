"""Memory of big builds (the index of a large knowledge base): no cyclic garbage collection while
millions of short-lived objects are made, freed heap pages handed back to the operating system,
and big arrays assembled from batches without holding both at once."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.corpus import Ints

_paused = threading.local()  # how deep this thread is in paused_gc blocks


@contextmanager
def paused_gc(trim: bool = True) -> Iterator[None]:
    """No cyclic garbage collection while creating many objects that all stay alive (or die young
    without cycles): each collection would walk everything already built. Freed heap pages are
    handed back afterwards (``trim``; not while serving: trimming holds malloc's lock, and every
    other thread that allocates waits for it — tens of milliseconds over a big heap). In nested
    blocks the outermost one decides: a hot reload that pauses with ``trim=False`` is not trimmed
    by the cache read inside it."""
    collecting = gc.isenabled()
    depth = getattr(_paused, "depth", 0)
    trimming = getattr(_paused, "trim", True)
    _paused.depth = depth + 1
    if depth == 0:
        _paused.trim = trim
    gc.disable()
    try:
        yield
    finally:
        _paused.depth = depth
        _paused.trim = trimming
        if collecting:
            gc.enable()
        if trim and depth == 0:
            release_memory()


def release_memory() -> None:
    """Hand freed heap pages back to the operating system (glibc keeps them otherwise, so a big
    build would leave the process hundreds of MB larger than what it holds); not inside a
    ``paused_gc(trim=False)`` block (a build in a serving process: see `paused_gc`)."""
    if _libc is not None and getattr(_paused, "trim", True):
        _libc.malloc_trim(0)


def _load_libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.malloc_trim  # noqa: B018  (musl has none)
    except (OSError, AttributeError):
        return None
    return libc


_libc = _load_libc()


_DRAINED_PER_TRIM = 4 << 20  # bytes of chunks freed between two `release_memory` calls


def drain(chunks: list[npt.NDArray[Any]], dtype: type[np.generic], mapping: Ints | None = None) -> Any:
    """The concatenated ``chunks`` (through ``mapping``), as ``dtype``; the list is emptied as it
    goes, so each chunk is freed once copied (the build's largest arrays are made this way). Small
    chunks live in malloc's heap, which keeps their pages when they are freed: those are handed
    back every few MB, so the output (whose pages are only taken as they are written) grows while
    the chunks shrink, and both are never held whole."""
    out = np.empty(sum(map(len, chunks)), dtype)
    at = freed = 0
    chunks.reverse()
    while chunks:
        chunk = chunks.pop()
        out[at : at + len(chunk)] = chunk if mapping is None else mapping[chunk]
        at += len(chunk)
        freed += chunk.nbytes
        del chunk
        if freed >= _DRAINED_PER_TRIM:
            release_memory()
            freed = 0
    return out
