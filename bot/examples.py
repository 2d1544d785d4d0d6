"""Labelled questions as examples: how close a question is to real questions asked about an entry.

An entry's own questions are short and written by its authors; the questions people post are long
and worded their own way. The calibration carries the labelled questions it was fitted on (what the
matcher read of each, and the entry it is about), and the decision reads, per candidate entry, the
highest similarity between the question and an example of that entry (`example`), and that minus
the best among the candidates (`example_gap`). Out of fold on the fit set this answered 65.9 %
correctly against 60.9 % without it (`benchmarks/decide_lab_columns.py`, ``neighbours-lexical``).

The similarity is the cosine of TF-IDF vectors as scikit-learn's ``TfidfVectorizer(sublinear_tf=True)``
makes them: lower-cased runs of two or more word characters (stop words kept), ``1 + log(count)``
times the smoothed IDF ``log((1 + n) / (1 + df)) + 1`` over the examples, rows of unit length. A
question's words that no example uses keep their weight (as if its document frequency were 0), so a
question full of words of its own is not made to look closer than it is. Built once per
calibration; per question, only the examples of the candidates are compared (a few dozen).

When fitting, a question must not find itself or its own thread among the examples: ``apart``
leaves out the examples of one thread (`bot.fitting`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import numpy as np

from bot.corpus import F64, I64
from bot.models import Example

_WORD = re.compile(r"\b\w\w+\b")
NEAREST = 10  # the closest examples whose similarity the candidates share (`Nearest.share`)


class Nearest(NamedTuple):
    best: list[float]  # per candidate entry, its closest example's cosine
    share: list[float]  # its examples' share of the summed cosine of the NEAREST closest of all


def words(text: str) -> list[str]:
    """The terms of ``text`` (scikit-learn's default analyzer)."""
    return _WORD.findall(text.lower())


class ExampleIndex:
    """The examples of the entries a matcher knows (``rows``: entry id → the matcher's entry
    number; examples of other entries are left out), each as its terms and unit-length TF-IDF
    weights, grouped by entry."""

    def __init__(self, examples: Sequence[Example], rows: Mapping[str, int]) -> None:
        kept = sorted(
            (rows[e.entry], k) for k, e in enumerate(examples) if e.entry in rows
        )  # by entry, then in the calibration's order
        self.size = n = len(kept)
        order = [examples[k] for _, k in kept]
        # each entry's examples are a run of rows, found by binary search on the entry numbers
        self._entry_of: I64 = np.array([row for row, _ in kept], np.int64)
        threads: dict[str, int] = {"": 0}
        self._thread_of: I64 = np.array([threads.setdefault(e.thread, len(threads)) for e in order], np.int64)
        self._threads = threads
        counts = [Counter(words(e.text)) for e in order]
        vocab: dict[str, int] = {}
        for c in counts:
            for w in c:
                vocab.setdefault(w, len(vocab))
        self._vocab = vocab
        lengths = np.fromiter(map(len, counts), np.int64, n)
        term = np.fromiter((vocab[w] for c in counts for w in c), np.int64, int(lengths.sum()))
        tf = np.fromiter((c for cs in counts for c in cs.values()), np.float64, len(term))
        df = np.bincount(term, minlength=len(vocab)).astype(np.float64)
        idf: F64 = np.log((1.0 + n) / (1.0 + df)) + 1.0
        self._idf: list[float] = idf.tolist()
        self._unknown_idf = math.log(1.0 + n) + 1.0
        weight = (1.0 + np.log(tf)) * idf[term]
        row = np.repeat(np.arange(n), lengths)
        self._row: I64 = row  # the example of each term
        norms = np.sqrt(np.bincount(row, weight * weight, n))
        self._weight: F64 = weight / np.where(norms > 0.0, norms, 1.0)[row]
        self._term = term
        self._ptr: I64 = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        self._columns = (self._term, self._weight, self._row)

    def __len__(self) -> int:
        return self.size

    def compare(self, text: str, entries: Sequence[int], apart: str = "") -> Nearest:
        """Per entry number in ``entries``: the highest cosine between ``text`` and one of that
        entry's examples (0 when it has none), and its share of the similarity of the `NEAREST`
        closest examples of all of them; leaving out thread ``apart``'s examples."""
        best = np.zeros(len(entries))
        none = Nearest(best.tolist(), best.tolist())
        if not self.size or not entries:
            return none
        wanted = np.asarray(entries, np.int64)
        lo = self._entry_of.searchsorted(wanted, "left")
        many = self._entry_of.searchsorted(wanted, "right") - lo
        has = many > 0
        if not has.any():
            return none
        vocab, idf, unknown = self._vocab, self._idf, self._unknown_idf
        query: dict[int, float] = {}
        norm2 = 0.0
        for w, count in Counter(words(text)).items():
            t = vocab.get(w)
            value = (1.0 + math.log(count) if count > 1 else 1.0) * (unknown if t is None else idf[t])
            norm2 += value * value
            if t is not None:
                query[t] = value
        if not query:
            return none
        q_vector = np.zeros(len(idf))
        q_vector[list(query)] = list(query.values())
        # the candidates' examples are runs of rows, and their terms one run per candidate
        first, last = (lo, lo + many) if has.all() else (lo[has], lo[has] + many[has])
        spans = list(zip(self._ptr[first].tolist(), self._ptr[last].tolist(), strict=True))
        terms, weights, rows = (np.concatenate([a[i:j] for i, j in spans]) for a in self._columns)
        sims = np.bincount(rows, q_vector[terms] * weights, self.size + 1)  # one spare zero at the end
        if apart and (thread := self._threads.get(apart)):
            sims[: self.size][self._thread_of == thread] = 0.0
        bounds = np.empty(2 * len(first), np.int64)  # the maximum over [first, last), every other
        bounds[0::2], bounds[1::2] = first, last
        best[has] = np.maximum.reduceat(sims, bounds)[::2] / math.sqrt(norm2)
        # the NEAREST closest of the candidates' examples, and each candidate's part of them
        mine = np.concatenate([sims[i:j] for i, j in zip(first.tolist(), last.tolist(), strict=True)])
        owner = np.repeat(np.arange(len(first)), last - first)
        if len(mine) > NEAREST:
            top = np.argpartition(mine, -NEAREST)[-NEAREST:]
            mine, owner = mine[top], owner[top]
        total = float(mine.sum())
        shares = np.zeros(len(entries))
        if total > 0.0:
            shares[has] = np.bincount(owner, mine, len(first)) / total
        share: list[float] = shares.tolist()
        return Nearest(best.tolist(), share)
