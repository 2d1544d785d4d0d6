"""Labelled questions as examples: how close a question is to real questions asked about an entry.

An entry's own questions are short and written by its authors; the questions people post are long
and worded their own way. The calibration carries the labelled questions it was fitted on (what the
matcher read of each, and the entry it is about), and the decision reads, per candidate entry, the
highest similarity between the question and an example of that entry (`example`), that minus the
best among the candidates (`example_gap`), and the entry's share of the similarity of the `NEAREST`
examples closest to the question among all the candidates' (`example_share`, a nearest-neighbour
vote). Out of fold on the fit set they raised answered-correctly from 61.2 % to 67.8 %
(`benchmarks/README.md`).

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
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import accumulate, pairwise
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
        # each entry's examples are a run of rows (`_spans`)
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
        self._scratch = threading.local()  # per-thread work arrays (as bot.alternates)
        # per entry number: its examples' rows [first, last) and their terms' [first, last)
        bounds = np.flatnonzero(np.diff(self._entry_of, prepend=-1, append=-1)).tolist()
        self._spans: dict[int, tuple[int, int, int, int]] = {
            int(self._entry_of[a]): (a, b, int(self._ptr[a]), int(self._ptr[b])) for a, b in pairwise(bounds)
        }

    def __len__(self) -> int:
        return self.size

    def compare(
        self, text: str, entries: Sequence[int], apart: str = "", said: Sequence[str] | None = None
    ) -> Nearest:
        """Per entry number in ``entries``: the highest cosine between ``text`` and one of that
        entry's examples (0 when it has none), and its share of the similarity of the `NEAREST`
        closest examples of all of them; leaving out thread ``apart``'s examples. ``said``: the
        words of ``text``, when the caller has them already."""
        best, share = [0.0] * len(entries), [0.0] * len(entries)
        spans = self._spans
        present = [k for k, e in enumerate(entries) if e in spans]
        if not present:
            return Nearest(best, share)
        vocab, idf, unknown = self._vocab, self._idf, self._unknown_idf
        query: dict[int, float] = {}
        norm2 = 0.0
        for w, count in Counter(words(text) if said is None else said).items():
            t = vocab.get(w)
            value = (1.0 + math.log(count) if count > 1 else 1.0) * (unknown if t is None else idf[t])
            norm2 += value * value
            if t is not None:
                query[t] = value
        if not query:
            return Nearest(best, share)
        # the query's weight of every term, in a per-thread vector of zeros set here and reset below
        q_vector: F64 | None = getattr(self._scratch, "query", None)
        if q_vector is None:
            q_vector = self._scratch.query = np.zeros(len(idf))
        q_terms = list(query)
        q_vector[q_terms] = list(query.values())
        # each candidate's examples are a run of rows, and their terms a run of terms
        runs = [spans[entries[k]] for k in present]
        terms, weights, rows = (np.concatenate([a[r[2] : r[3]] for r in runs]) for a in self._columns)
        sims = np.bincount(rows, q_vector[terms] * weights, self.size)
        q_vector[q_terms] = 0.0
        if apart and (thread := self._threads.get(apart)):
            sims[self._thread_of == thread] = 0.0
        mine = np.concatenate([sims[r[0] : r[1]] for r in runs])  # the candidates' examples, in turn
        counts = [r[1] - r[0] for r in runs]
        starts = list(accumulate(counts, initial=0))[:-1]
        closest = (np.maximum.reduceat(mine, starts) / math.sqrt(norm2)).tolist()
        # the NEAREST closest of the candidates' examples, and each candidate's part of them
        owner = np.repeat(np.arange(len(runs)), counts)
        if len(mine) > NEAREST:
            top = np.argpartition(mine, -NEAREST)[-NEAREST:]
            mine, owner = mine[top], owner[top]
        total = float(mine.sum())
        parts = (np.bincount(owner, mine, len(runs)) / total).tolist() if total > 0.0 else [0.0] * len(runs)
        for j, k in enumerate(present):
            best[k], share[k] = closest[j], parts[j]
        return Nearest(best, share)
