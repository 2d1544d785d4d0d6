"""The reranking of a shortlist: per entry, its best single alternate — weighted token F1 of the
question and the alternate, blended with rapidfuzz ``ratio`` of their sorted-token keys — and the
question's words found together in one alternate."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from itertools import accumulate
from operator import itemgetter
from typing import Any

import numpy as np
import numpy.typing as npt
from rapidfuzz import fuzz, process

from bot.corpus import F64, I64, Ints, ranges
from bot.index import Index, Speller
from bot.pacing import pace

KEYS_KEPT = 200_000  # alternates whose keys are kept as separate objects (~80 bytes each)


class AlternateScorer:
    """Scores the alternates of shortlisted entries against a question (`score`), for one index."""

    def __init__(self, index: Index, char_weight: float, phrases: Sequence[int] = ()) -> None:
        """``phrases``: the ids of tokens that stand for several words (`Normalizer.phrase_tokens`);
        each counts as two question words found together."""
        self.index = index
        self.char_weight = char_weight  # within an alternate's score: characters vs weighted tokens
        self._scratch = threading.local()  # per-thread work arrays
        self._max_alts = max(int(np.diff(index.entry_alts).max(initial=0)), 1)
        self._speller = Speller(index.tokens)
        # each alternate's key as its own object, spelt the first time its entry is shortlisted,
        # when that is affordable (else spelt for each question)
        self._keys: list[bytes | str | None] | None = None
        self._spelt = [False] * (len(index.entry_alts) - 1)  # entries whose keys are in _keys
        if len(index.alt_len) <= KEYS_KEPT:
            self._keys = [None] * len(index.alt_len)
        self._entry_toks: list[int] = index.entry_toks.tolist()
        self._entry_alts = index.entry_alts[:-1]  # each entry's first alternate
        # for each token of the alternates, its alternate's place among its entry's alternates
        self._tok_alt = _places(index, np.uint8 if self._max_alts <= 256 else np.int32)
        self._words = np.ones(len(index.tokens), np.uint8)  # question words each token stands for
        self._words[list(phrases)] = 2

    def positions(self, q_tok: I64) -> npt.NDArray[np.int32]:
        """A vocabulary-sized array holding each question token's position and -1 elsewhere: this
        thread's own, to be reset to -1 by the caller."""
        position: npt.NDArray[np.int32] | None = getattr(self._scratch, "position", None)
        if position is None:
            position = self._scratch.position = np.full(len(self.index.tokens), -1, np.int32)
        position[q_tok] = np.arange(len(q_tok), dtype=np.int32)
        return position

    def score(
        self, shortlist: list[int], q_tok: I64, q_gain: F64, q_key: str, q_total: float
    ) -> tuple[F64, F64, npt.NDArray[np.bool_]]:
        """Per shortlisted entry: its best alternate's score, the most question words found
        together in one alternate (a phrase token counting two), and which of the question's
        tokens its vocabulary has (a row of ``q_tok`` flags)."""
        ix = self.index
        n, width = len(shortlist), self._max_alts
        first_alt = self._entry_alts.take(shortlist)
        # every token of the shortlisted entries' alternates (slices: a dozen entries, their
        # bounds read from a list)
        toks, alt_tok = self._entry_toks, ix.alt_tok
        bounds = [(toks[e], toks[e + 1]) for e in shortlist]
        tokens = np.concatenate([alt_tok[a:b] for a, b in bounds])
        position = self.positions(q_tok)
        try:
            at = position[tokens]
        finally:
            position[q_tok] = -1
        hit = (at >= 0).nonzero()[0]  # methods, not numpy's functions: no Python-level wrapper
        which = at[hit]  # the question token of each hit
        # each hit's entry (slot), and which of its entry's alternates it belongs to: read for the
        # hits alone, at their place among all the alternates' tokens (the gathered place shifted
        # by the gap between where its entry's tokens end there and here), not gathered for all
        ends = list(accumulate(b - a for a, b in bounds))
        hit_slot = np.array(ends).searchsorted(hit, "right")
        shift = np.array([b - end for (_, b), end in zip(bounds, ends, strict=True)])
        cell = hit_slot * width + self._tok_alt[hit + shift[hit_slot]]  # cells: entry slot x alternate
        hit_tok = q_tok[which]
        common = np.bincount(cell, self._words.take(hit_tok), n * width)
        matched = np.bincount(cell, q_gain[which], n * width)
        weight = np.bincount(cell, ix.idf.take(hit_tok), n * width)
        used = common.nonzero()[0]
        blend = np.zeros(n * width)
        if len(used):
            slot, place = used // width, used % width
            alts = first_alt[slot] + place
            precision = weight[used] / ix.alt_weight[alts]
            recall = matched[used] / q_total
            f1 = 2 * precision * recall / (precision + recall)
            query: str | bytes = q_key.encode("ascii") if ix.ascii else q_key
            keys = self._keys
            texts: list[Any]  # keys: bytes or text
            if keys is not None:
                spelt = self._spelt
                if not all(map(spelt.__getitem__, shortlist)):  # some entry first used: spell them
                    self._spell(keys, first_alt, self._n_alts(shortlist), tokens)
                    for e in shortlist:
                        spelt[e] = True
                texts = (
                    [keys[a] for a in alts.tolist()] if len(alts) == 1 else itemgetter(*alts.tolist())(keys)
                )
            else:  # spelt from the alternates' unigrams gathered above
                n_alts = self._n_alts(shortlist)
                starts = self._starts(first_alt, n_alts)[(np.cumsum(n_alts) - n_alts)[slot] + place]
                uni = ix.alt_uni[alts]
                texts = self._speller.keys(tokens[ranges(starts, uni)], uni)
            char = process.cdist([query], texts, scorer=fuzz.ratio, dtype=np.float64)[0] / 100.0
            blend[used] = (1 - self.char_weight) * f1 + self.char_weight * char
        found = np.zeros((n, len(q_tok)), bool)
        found[hit_slot, which] = True
        best = np.maximum.reduce
        return best(blend.reshape(n, width), axis=1), best(common.reshape(n, width), axis=1), found

    def release(self, step: int = 20_000) -> Iterator[None]:
        """Free the spelt keys ``step`` at a time, yielding between steps, for a scorer that is
        being freed (`Matcher.release`; ~130k keys at 10k entries, ~4 ms in one go)."""
        keys = self._keys
        while keys:
            del keys[-step:]
            yield

    def spell_all(self, chunk: int = 256) -> int:
        """Spell the keys of every entry not spelt yet (`score` spells an entry's keys the first
        time it is shortlisted, ~0.2 ms a question at 10k entries): for a server after a load, so
        that its first questions do not pay for it. Rests between chunks in a `bot.pacing` block;
        returns how many entries it spelt (none when the keys are not kept)."""
        keys, spelt, toks = self._keys, self._spelt, self._entry_toks
        if keys is None:
            return 0
        done = 0
        for start in range(0, len(spelt), chunk):
            todo = [e for e in range(start, min(start + chunk, len(spelt))) if not spelt[e]]
            if not todo:
                continue
            tokens = np.concatenate([self.index.alt_tok[toks[e] : toks[e + 1]] for e in todo])
            self._spell(keys, self._entry_alts.take(todo), self._n_alts(todo), tokens)
            for e in todo:
                spelt[e] = True
            done += len(todo)
            pace()
        return done

    def _n_alts(self, shortlist: list[int]) -> I64:
        """How many alternates each shortlisted entry has."""
        bounds = self.index.entry_alts
        counts: I64 = bounds.take([e + 1 for e in shortlist]) - bounds.take(shortlist)
        return counts

    def _starts(self, first_alt: I64, n_alts: I64) -> I64:
        """Where each alternate of the shortlisted entries starts among their tokens."""
        pairs = zip(first_alt.tolist(), n_alts.tolist(), strict=True)
        sizes = np.concatenate([self.index.alt_len[a : a + c] for a, c in pairs])
        starts: I64 = np.cumsum(sizes, dtype=np.int64) - sizes
        return starts

    def _spell(self, keys: list[bytes | str | None], first_alt: I64, n_alts: I64, tokens: Ints) -> None:
        """Fill ``keys`` for every alternate of the shortlisted entries (``tokens``: their tokens,
        alternate by alternate)."""
        alts = ranges(first_alt, n_alts)
        uni = self.index.alt_uni[alts]
        starts = self._starts(first_alt, n_alts)
        spelt: Sequence[bytes | str] = self._speller.keys(tokens[ranges(starts, uni)], uni)
        for alt, key in zip(alts.tolist(), spelt, strict=True):
            keys[alt] = key  # lists are shared between threads; a key is the same whoever spells it


_ENTRIES_PER_CHUNK = 4_096


def _places(index: Index, dtype: type[np.generic]) -> Ints:
    """For each token of the alternates (in `Index.alt_tok` order), the place of its alternate
    among its entry's alternates; made a chunk of entries at a time, so the temporaries stay
    small (whole, at 100k entries, they were ~30 MB that malloc kept after the build)."""
    bounds, tok_bounds = index.entry_alts, index.entry_toks
    out = np.empty(int(tok_bounds[-1]), dtype)
    for lo in range(0, len(bounds) - 1, _ENTRIES_PER_CHUNK):
        hi = min(lo + _ENTRIES_PER_CHUNK, len(bounds) - 1)
        first = bounds[lo : hi + 1]
        place = np.arange(first[0], first[-1]) - first[:-1].repeat(np.diff(first))
        out[tok_bounds[lo] : tok_bounds[hi]] = place.astype(dtype).repeat(index.alt_len[first[0] : first[-1]])
    return out
