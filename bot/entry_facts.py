"""What the decision reads about a candidate entry itself, beside how well its questions match:
how much of the question its answer text speaks of, and how broad the entry is.

The index reads only titles and questions (`bot.index`): an answer's text would make every long
answer a candidate for everything. But real posts quote the errors, flags and commands that the
right entry's answer names ("manifest unknown", ``host.docker.internal``, ``--restart``), so the
share of the question's weight found in the answer text tells near neighbours apart once the
questions have shortlisted them. An entry with many questions and words gets a high coverage or
best-alternate score by chance more often; its breadth lets the model discount that.

Each entry's facts are made the first time it is a candidate (reading an answer costs ~0.15 ms),
or all at once by `EntryFacts.warm` on a server's reload thread, and kept.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Sequence
from math import fsum
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from bot.index import Index
from bot.models import Entry
from bot.pacing import pace
from bot.text import Normalizer

_TOP = 5  # breadth: the mean IDF share of the entry's this many rarest words


RELEASE_STEP = 500  # entries' facts freed at a time by `release` (~0.8 ms)
SETS_KEPT = 2_048  # knowledge bases up to this many entries keep each answer's words as sets


class _Facts(NamedTuple):
    # the tokens of the answer text (answer, analogy, tips and commands), and those of them that
    # none of the entry's title and questions use: as sets of words (~8 KB an entry, fast), or,
    # for a big knowledge base, as sorted keys (the entry << 32 | the token's id in
    # `EntryFacts._ids`) and a flag per key (~1.2 KB an entry)
    words: frozenset[str]
    fresh_words: frozenset[str]
    keys: npt.NDArray[np.int64]
    fresh: npt.NDArray[np.bool_]
    breadth: tuple[float, ...]


_NONE: frozenset[str] = frozenset()
_EMPTY_KEYS = np.zeros(0, np.int64)
_EMPTY_FLAGS = np.zeros(0, bool)
_END = np.array([np.iinfo(np.int64).max], np.int64)
_NO = np.zeros(1, bool)


class EntryFacts:
    """Per-entry facts for one index, made on first use (thread-safe: a fact is the same whoever
    makes it)."""

    def __init__(
        self, entries: Sequence[Entry], index: Index, normalizer: Normalizer, max_idf: float
    ) -> None:
        self._entries = entries
        self._index = index
        self._normalizer = normalizer
        self._max_idf = max_idf
        self._facts: list[_Facts | None] = [None] * len(entries)
        self._lock = threading.Lock()
        self._ids: dict[str, int] = {}  # every answer token read so far -> its id
        self._unigram: np.ndarray | None = None  # token id -> not a phrase
        self._sets = len(entries) <= SETS_KEPT

    def columns(
        self, shown: Sequence[int], weights: dict[str, float], total: float
    ) -> list[tuple[float, ...]]:
        """For each entry in ``shown`` (the candidates, best first), the `bot.evidence.FEATURES`
        from ``answer_covered`` on, given the question's token weights and total weight."""
        facts = [self._facts[e] or self._make(e) for e in shown]
        if not facts:
            return []
        rows = self._found_sets(facts, weights) if self._sets else self._found_keys(shown, facts, weights)
        top = self._max_idf
        # exact sums (fsum): the same whatever order the words come in, in every process
        sums = [
            (fsum(found) / total, min(max(found, default=0.0) / top, 1.0), fsum(new) / total)
            for found, new in rows
        ]
        best = max(c for c, _r, _n in sums)
        return [(c, c - best, r, n, *f.breadth) for (c, r, n), f in zip(sums, facts, strict=True)]

    @staticmethod
    def _found_sets(facts: list[_Facts], weights: dict[str, float]) -> list[tuple[list[float], list[float]]]:
        """Per candidate, the weights of the question's words its answer has, and of those its
        questions lack."""
        weight = weights.__getitem__
        asked = set(weights)
        found = [f.words & asked for f in facts]  # (the fresh words are among them: a smaller probe)
        return [
            (list(map(weight, words)), list(map(weight, words & f.fresh_words)))
            for words, f in zip(found, facts, strict=True)
        ]

    def _found_keys(
        self, shown: Sequence[int], facts: list[_Facts], weights: dict[str, float]
    ) -> list[tuple[list[float], list[float]]]:
        """`_found_sets` from sorted keys, with a zero for each word not found (no sum changes)."""
        ids = self._ids
        q_ids = np.array([ids.get(t, -1) for t in weights], np.int64)  # (after the facts are made)
        q_w = np.fromiter(weights.values(), np.float64, len(q_ids))
        # one sorted haystack: the candidates' keys in entry order, then a key above them all so
        # that every search lands on a key
        order = sorted(range(len(shown)), key=shown.__getitem__)
        hay = np.concatenate([*(facts[i].keys for i in order), _END])
        fresh = np.concatenate([*(facts[i].fresh for i in order), _NO])
        needles = np.array([shown[i] << 32 for i in order], np.int64)[:, None] + q_ids
        at = hay.searchsorted(needles)
        found = hay[at] == needles  # (an unknown word's -1 never meets a key)
        found_w, new_w = (found * q_w).tolist(), ((found & fresh[at]) * q_w).tolist()
        rows: list[tuple[list[float], list[float]]] = [([], [])] * len(shown)
        for row, i in enumerate(order):
            rows[i] = (found_w[row], new_w[row])
        return rows

    def warm(self, stop: Callable[[], bool] | None = None) -> int:
        """Make every entry's facts not made yet, ready to rest after each (`bot.pacing`: an entry is
        ~0.2 ms of work, the pace's unit is 2 ms), until ``stop()`` is true: for a server after a
        load. Returns how many it made."""
        made = 0
        for e, facts in enumerate(self._facts):
            if stop is not None and stop():
                break
            if facts is None:
                self._make(e)
                made += 1
                pace()
        return made

    def release(self, step: int = RELEASE_STEP) -> Iterator[None]:
        """Free the facts ``step`` entries at a time, yielding between steps, for a matcher that is
        being freed (`Matcher.release`): freed in one go, 10,000 entries' facts held the
        interpreter lock for ~16 ms. The facts are gone afterwards."""
        facts = self._facts
        while facts:
            del facts[-step:]
            yield

    def _make(self, e: int) -> _Facts:
        entry, ix = self._entries[e], self._index
        parts = [entry.answer, entry.analogy or ""]
        for tip in entry.tips:
            parts.append(tip.text)
            if tip.command:
                parts.append(tip.command)
        words = set(self._normalizer.tokens(" ".join(parts)))
        toks = np.sort(ix.alt_tok[ix.entry_toks[e] : ix.entry_toks[e + 1]])
        if len(toks) > 1:  # distinct (np.unique's first call imports numpy.ma: ~20 ms of an ask)
            toks = toks[np.r_[True, toks[1:] != toks[:-1]]]
        toks = toks[self._unigrams()[toks]]
        tokens = ix.tokens
        questions = {tokens[t] for t in toks.tolist()}
        if self._sets:
            made = (frozenset(words), frozenset(words - questions), _EMPTY_KEYS, _EMPTY_FLAGS)
        else:
            with self._lock:  # ids are handed out in one place
                ids = self._ids
                pairs = sorted((ids.setdefault(t, len(ids)), t) for t in words)
            keys = np.array([e << 32 | i for i, _ in pairs], np.int64)
            made = (_NONE, _NONE, keys, np.array([t not in questions for _, t in pairs], bool))
        shares = np.sort(ix.idf[toks] / self._max_idf)[::-1] if len(toks) else np.zeros(1)
        breadth = (
            min(math.log1p(len(entry.questions)) / 4, 1.0),
            min(math.log1p(len(toks)) / 6, 1.0),
            float(shares.mean()),
            float(shares[:_TOP].mean()),
        )
        facts = _Facts(*made, breadth)
        self._facts[e] = facts  # a list item: the same facts whichever thread stores them
        return facts

    def _unigrams(self) -> np.ndarray:
        if self._unigram is None:
            with self._lock:
                if self._unigram is None:
                    self._unigram = np.fromiter(("_" not in t for t in self._index.tokens), bool)
        return self._unigram
