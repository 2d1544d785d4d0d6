"""Typo correction: the closest known word to a misspelt one — exactly what rapidfuzz's
`extractOne` (``fuzz.ratio``) over the known words one letter shorter, as long, and one letter
longer would find — without comparing the word against every known word.

A known word of length L can reach ``cutoff`` only within k = (1 - cutoff/100)(l + L) insertions
and deletions of the word (length l), and two strings that close share at least
max(l, L) - 1 - 2k bigrams, counted with repeats (the q-gram lemma). So a candidate holds at least
one of any (l - 1) - that + 1 of the word's bigrams: only the words in the shortest of those
posting lists are compared. Where the bound says nothing (short words, a low cutoff), the whole
length bucket is compared, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
from rapidfuzz import fuzz, process

from bot.corpus import I32, I64, ranges

_MAX_FILTERED = 62  # longer words (and bigrams repeated more often) go to the plain scan
_BIGRAM = 0x110000  # one code point per digit
_SCAN = 150  # a length with this few words is simply compared word by word


class TypoIndex:
    """Known words by length, and their bigrams (with how many times each was seen before it in
    the word), keyed together with the word's length."""

    def __init__(self, words: Sequence[str], scan: int = _SCAN) -> None:
        """``scan``: lengths with at most this many words are compared word by word."""
        self._scan = scan
        self._words = list(words)
        self._buckets: dict[int, list[str]] = {}
        for word in self._words:
            self._buckets.setdefault(len(word), []).append(word)
        lens = np.fromiter(map(len, self._words), np.int64, len(self._words))
        chosen = np.flatnonzero((lens >= 2) & (lens <= _MAX_FILTERED))
        joined = "".join(self._words[i] for i in chosen.tolist())
        codes = np.frombuffer(joined.encode("utf-32-le"), np.uint32).astype(np.int64)
        word_len = lens[chosen]
        starts = np.cumsum(word_len) - word_len
        positions = ranges(starts, word_len - 1)
        owner = np.repeat(chosen, word_len - 1)
        bigram = codes[positions] * _BIGRAM + codes[positions + 1] if len(positions) else positions
        order = np.lexsort((positions, bigram, owner))
        owner, bigram = owner[order], bigram[order]
        step = np.arange(len(owner))
        new_group = np.r_[True, (owner[1:] != owner[:-1]) | (bigram[1:] != bigram[:-1])]
        repeat = step - np.maximum.accumulate(np.where(new_group, step, 0))
        keys = (bigram * 64 + repeat) * 64 + lens[owner]
        order = np.lexsort((owner, keys))
        keys = keys[order]
        self._posting: I32 = owner[order].astype(np.int32)
        # the keys are sorted: each distinct key and where its run starts (np.unique's answer,
        # without importing numpy.ma on its first call, ~20 ms of a `kubebot ask`)
        head = np.empty(len(keys), bool)
        head[:1] = True
        np.not_equal(keys[1:], keys[:-1], out=head[1:])
        starts = np.flatnonzero(head)
        self._keys: I64 = keys[starts]
        self._starts: I64 = np.r_[starts, len(keys)].astype(np.int64)
        self._lengths: I64 = lens

    @property
    def words(self) -> list[str]:
        return self._words

    def closest(self, word: str, cutoff: float) -> tuple[str, float] | None:
        """The known word closest to ``word`` (one letter shorter, as long, one longer) with its
        similarity in 0..1, when it reaches ``cutoff`` (0..100); ties go to the shorter length,
        then to the word seen first."""
        size = len(word)
        lengths = [n for n in range(size - 1, size + 2) if n in self._buckets]
        choices: list[str] = []
        bounds: dict[int, int] = {}
        for length in lengths:
            most = int((1.0 - cutoff / 100.0) * (size + length) + 1e-6)  # insertions and deletions
            bound = max(size, length) - 1 - 2 * most  # bigrams shared at least
            small = len(self._buckets[length]) <= self._scan
            if bound > 0 and not small and 2 <= length <= _MAX_FILTERED and size <= _MAX_FILTERED:
                bounds[length] = bound
            else:
                if bounds:  # keep the order of lengths: candidates of shorter ones first
                    choices += self._candidates(word, bounds)
                    bounds = {}
                choices += self._buckets[length]
        if bounds:
            choices += self._candidates(word, bounds)
        if not choices:
            return None
        # one pass over the candidates, shorter lengths first, each length in order of first use:
        # the first best is what comparing length by length, keeping only strictly better, gives
        found = process.extractOne(word, choices, scorer=fuzz.ratio, score_cutoff=cutoff)
        return (found[0], found[1] / 100.0) if found is not None else None

    def _candidates(self, word: str, bounds: dict[int, int]) -> list[str]:
        """The words of each length in ``bounds`` that share at least that many bigrams with
        ``word``, by length, then in order of first use."""
        if not len(self._keys):
            return []
        base = self._word_keys(word)
        keys = (base[None, :] + np.fromiter(bounds, np.int64, len(bounds))[:, None]).reshape(-1)
        at = self._keys.searchsorted(keys)
        np.minimum(at, len(self._keys) - 1, out=at)
        at = at[self._keys[at] == keys]
        posting, starts = self._posting, self._starts
        if len(at) <= 32:  # slicing beats index arithmetic for a few keys
            spans = zip(starts[at].tolist(), starts[at + 1].tolist(), strict=True)
            picked = np.concatenate([posting[a:b] for a, b in spans]) if len(at) else posting[:0]
        else:
            picked = posting[ranges(starts[at], starts[at + 1] - starts[at])]
        shared = np.bincount(picked, minlength=len(self._words))  # a word's keys all carry its length
        found = shared.nonzero()[0]
        need = np.zeros(_MAX_FILTERED + 2, np.int64)
        need[np.fromiter(bounds, np.int64)] = np.fromiter(bounds.values(), np.int64)
        found = found[shared[found] >= need[self._lengths[found]]]
        found = found[self._lengths[found].argsort(kind="stable")]
        return [self._words[i] for i in found.tolist()]

    @staticmethod
    def _word_keys(word: str) -> I64:
        seen: dict[int, int] = {}
        keys = []
        for a, b in pairwise(word):
            bigram = ord(a) * _BIGRAM + ord(b)
            repeat = seen.get(bigram, 0)
            seen[bigram] = repeat + 1
            keys.append((bigram * 64 + repeat) * 64)
        return np.asarray(keys, np.int64)
