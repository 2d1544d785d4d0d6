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
calibration; per question: one pass over the postings of its words.

When fitting, a question must not find itself or its own thread among the examples: ``apart``
leaves out the examples of one thread (`bot.fitting`).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from bot.corpus import F64, I64, ranges
from bot.models import Example

_WORD = re.compile(r"\b\w\w+\b")


def words(text: str) -> list[str]:
    """The terms of ``text`` (scikit-learn's default analyzer)."""
    return _WORD.findall(text.lower())


class ExampleIndex:
    """The examples of the entries a matcher knows (``rows``: entry id → the matcher's entry
    number; examples of other entries are left out), as postings of their TF-IDF weights."""

    def __init__(self, examples: Sequence[Example], rows: Mapping[str, int]) -> None:
        kept = sorted(
            (rows[e.entry], k) for k, e in enumerate(examples) if e.entry in rows
        )  # by entry, then in the calibration's order
        self.size = n = len(kept)
        entry_of = np.array([row for row, _ in kept], np.int64)
        order = [examples[k] for _, k in kept]
        by_thread: dict[str, list[int]] = {}
        for k, e in enumerate(order):
            if e.thread:
                by_thread.setdefault(e.thread, []).append(k)
        self._threads: dict[str, I64] = {t: np.array(ks, np.int64) for t, ks in by_thread.items()}
        # each entry's examples: a run of rows, found by binary search on entry numbers
        self._entry_of = entry_of
        counts = [Counter(words(e.text)) for e in order]
        vocab: dict[str, int] = {}
        for c in counts:
            for w in c:
                vocab.setdefault(w, len(vocab))
        self._vocab = vocab
        df = np.zeros(len(vocab), np.float64)
        terms, docs, tfs = [], [], []
        for k, c in enumerate(counts):
            for w, count in c.items():
                t = vocab[w]
                df[t] += 1
                terms.append(t)
                docs.append(k)
                tfs.append(1.0 + math.log(count))
        self._idf: F64 = np.log((1.0 + n) / (1.0 + df)) + 1.0
        self._unknown_idf = math.log(1.0 + n) + 1.0
        term = np.array(terms, np.int64)
        doc = np.array(docs, np.int64)
        weight = np.array(tfs, np.float64) * self._idf[term] if terms else np.empty(0)
        norms = np.sqrt(np.bincount(doc, weight * weight, n)) if n else np.empty(0)
        weight = weight / np.where(norms > 0, norms, 1.0)[doc] if n else weight
        # postings by term
        by_term = np.argsort(term, kind="stable")
        self._post_doc: I64 = doc[by_term]
        self._post_weight: F64 = weight[by_term]
        self._post_ptr: I64 = np.concatenate(
            ([0], np.cumsum(np.bincount(term, minlength=len(vocab))))
        ).astype(np.int64)

    def __len__(self) -> int:
        return self.size

    def similarities(self, text: str, entries: Sequence[int], apart: str = "") -> list[float]:
        """Per entry number in ``entries``: the highest cosine between ``text`` and one of that
        entry's examples (0 when it has none), leaving out thread ``apart``'s examples."""
        if not self.size or not entries:
            return [0.0] * len(entries)
        counts = Counter(words(text))
        known, q_weight, norm2 = [], [], 0.0
        for w, count in counts.items():
            t = self._vocab.get(w)
            tf = 1.0 + math.log(count)
            value = tf * (self._unknown_idf if t is None else float(self._idf[t]))
            norm2 += value * value
            if t is not None:
                known.append(t)
                q_weight.append(value)
        if not known:
            return [0.0] * len(entries)
        terms = np.array(known, np.int64)
        starts = self._post_ptr[terms]
        lengths = self._post_ptr[terms + 1] - starts
        picked = ranges(starts, lengths)
        sims = np.bincount(
            self._post_doc[picked],
            np.repeat(np.array(q_weight), lengths) * self._post_weight[picked],
            self.size,
        ) / math.sqrt(norm2)
        if apart and (mine := self._threads.get(apart)) is not None:
            sims[mine] = 0.0
        wanted = np.asarray(entries, np.int64)
        lo = self._entry_of.searchsorted(wanted, "left")
        hi = self._entry_of.searchsorted(wanted, "right")
        out = []
        for a, b in zip(lo.tolist(), hi.tolist(), strict=True):
            out.append(float(sims[a:b].max()) if b > a else 0.0)
        return out
