"""One pass over a knowledge base's texts that both indexes read: `bot.index` (words) and
`bot.semantic` (word pieces).

The printable-ASCII texts of a batch (nearly all) are lower-cased and split on white space in one
go, and each distinct *fragment* — a white-space-separated run such as ``pod/web-1:`` — gets a
number. What a fragment means (its words, its word pieces) is then worked out once per distinct
fragment by each reader, not once per use, and spread over the uses by numpy. Splitting a text at
white space never changes its words or its word pieces: neither a word nor a piece spans a space.
Other texts (non-ASCII, tabs, line ends, control characters) are read one by one.
"""

from __future__ import annotations

from array import array
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any

import numpy as np
import numpy.typing as npt

I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
F64 = npt.NDArray[np.float64]
F32 = npt.NDArray[np.float32]
U64 = npt.NDArray[np.uint64]
U32 = npt.NDArray[np.uint32]
Ints = npt.NDArray[np.integer]

END = "\x01"  # the fragment after each text (a printable text cannot hold it); always number 0
TEXTS_PER_BATCH = 25_000


def ranges(starts: npt.NDArray[np.integer], lengths: npt.NDArray[np.integer]) -> I64:
    """The concatenation of ``range(s, s + n)`` for each start and length, without a Python loop."""
    total = int(lengths.sum()) if len(lengths) else 0
    if total == 0:
        return np.zeros(0, np.int64)
    ends = np.cumsum(lengths, dtype=np.int64)
    offsets = np.repeat(starts.astype(np.int64) - (ends - lengths), lengths)
    out: I64 = np.arange(total, dtype=np.int64) + offsets
    return out


def gather(ptr: Sequence[int], rows: Sequence[int], *columns: npt.NDArray[Any]) -> tuple[Any, ...]:
    """The items of CSR ``rows`` (``ptr`` offsets) from each column, concatenated in row order,
    and each row's length (a list). ``ptr`` is read item by item (a memoryview of the offsets: for
    the few rows of a question, cheaper than numpy's indexing and the lists back from it)."""
    spans = [(ptr[r], ptr[r + 1]) for r in rows]
    lengths = [b - a for a, b in spans]
    if len(rows) <= 32:  # slicing beats index arithmetic for a few rows
        return (*(np.concatenate([c[a:b] for a, b in spans]) for c in columns), lengths)
    picked = ranges(np.array([a for a, _ in spans], np.int64), np.array(lengths, np.int64))
    return (*(c[picked] for c in columns), lengths)


def sorted_runs(keys: Ints) -> tuple[I64, Ints, npt.NDArray[np.bool_]]:
    """A stable argsort of ``keys``, the keys in that order, and where each run of equal keys
    starts (at the key's first occurrence): what np.unique computes for its return_index and
    return_inverse, without the work these callers do not need (2-4 times faster)."""
    order: I64 = keys.argsort(kind="stable")
    ordered = keys[order]
    head = np.empty(len(ordered), bool)
    head[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=head[1:])
    return order, ordered, head


def is_plain(text: str) -> bool:
    """Read through fragments: printable ASCII (spaces are the only white space)."""
    return text.isascii() and text.isprintable()


@dataclass(frozen=True, slots=True)
class Batch:
    """A run of consecutive texts."""

    start: int  # the position of the first text among all texts
    texts: Sequence[str]
    plain: npt.NDArray[np.bool_]  # per text: read through fragments
    occ: I32  # the plain texts' fragments, by number, END after each text
    fresh: list[str]  # the fragments first used in this batch, by number from `first_fresh` on
    first_fresh: int

    def plain_ends(self) -> I64:
        """Per occurrence in `occ`: how many plain texts end before it (its text among the plain ones)."""
        is_end = self.occ == 0
        before: I64 = np.cumsum(is_end, dtype=np.int64) - is_end
        return before


class Fragments:
    """Numbers fragments across batches (one instance per pass)."""

    def __init__(self) -> None:
        self._numbers: defaultdict[str, int] = defaultdict(count().__next__)
        self._numbers[END]  # numbered first: 0 ends every plain text

    def batches(
        self, texts: Sequence[str], size: int = TEXTS_PER_BATCH, groups: I64 | None = None
    ) -> Iterator[Batch]:
        """Batches of about ``size`` texts; with ``groups`` (how many texts each group has, the
        texts coming group by group), a batch ends only where a group does."""
        ends = np.cumsum(groups) if groups is not None else None
        lo = 0
        while lo < len(texts):
            hi = min(lo + size, len(texts))
            if ends is not None:
                hi = int(ends[min(int(np.searchsorted(ends, hi)), len(ends) - 1)])
            yield self.batch(lo, texts[lo:hi])
            lo = hi

    def batch(self, start: int, texts: Sequence[str]) -> Batch:
        joined = "".join(texts)
        if joined.isascii() and joined.isprintable():  # nearly always: one scan for the lot
            plain, kept = np.ones(len(texts), bool), texts
        else:
            plain = np.fromiter(map(is_plain, texts), bool, len(texts))
            kept = [t for t, ok in zip(texts, plain.tolist(), strict=True) if ok]
        del joined
        first_fresh = len(self._numbers)
        words = (f" {END} ".join(kept) + f" {END}").lower().split() if kept else []
        numbers = array("i")
        numbers.extend(map(self._numbers.__getitem__, words))
        occ = np.frombuffer(numbers, np.int32) if numbers else np.zeros(0, np.int32)
        new = np.flatnonzero(occ >= first_fresh)
        _, first = np.unique(occ[new], return_index=True)  # by number: the order they were numbered
        return Batch(start, texts, plain, occ, [words[i] for i in new[first].tolist()], first_fresh)


class FragmentTable:
    """Per fragment number, a short list of ints (its word ids, its piece ids), grown batch by batch."""

    def __init__(self, first: Sequence[int]) -> None:
        """``first``: the list of END (number 0)."""
        self._lengths = np.array([len(first)], np.int64)
        self._flat = np.asarray(first, np.int64)

    def extend(self, lists: Sequence[Sequence[int]]) -> None:
        """The lists of the next fragments, in number order."""
        if not lists:
            return
        lengths = np.fromiter(map(len, lists), np.int64, len(lists))
        flat = np.fromiter((i for items in lists for i in items), np.int64, int(lengths.sum()))
        self._lengths = np.concatenate([self._lengths, lengths])
        self._flat = np.concatenate([self._flat, flat])

    def spread(self, occ: npt.NDArray[np.integer]) -> tuple[I64, I64]:
        """The lists of the fragments in ``occ``, concatenated, and each one's length."""
        lengths = self._lengths[occ]
        starts = (np.cumsum(self._lengths) - self._lengths)[occ]
        return self._flat[ranges(starts, lengths)], lengths
