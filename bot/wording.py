"""The wording model: a linear classifier from the words people use to the entry they ask about.

The examples (`bot.examples`) compare a question with single labelled questions, one neighbour at a
time. This model instead learns, per entry, which words and word pairs point to it rather than to
the others: a linear support-vector classifier (scikit-learn's ``LinearSVC``) over TF-IDF vectors of
words and adjacent word pairs, trained on every entry's title and questions and on the labelled
questions of the calibration. The decision reads, per candidate, its score (`wording`) and that
score minus the best among the candidates (`wording_gap`). Out of fold on the fit set it raised
answered-correctly by 1.3-2.0 points at the same wrong rate (`benchmarks/README.md`).

The off-topic labelled questions are one more class (`OFF_TOPIC`): how much a question reads like
what people asked that the knowledge base does not cover. The decision reads its score
(`wording_off`) and the best candidate's score minus it (`wording_above_off`): out of fold +0.7
points on two sets of five grouped splits (`decide_lab_columns.py classifier OFFCLASS=1`).

Only the positive weights are kept (a word's evidence *for* an entry; the negative ones did not
help and are nine tenths of the weights), in rows per entry. A question is read as scikit-learn's
``TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2))`` reads it: the words of `bot.examples`,
then each pair of adjacent words; ``1 + log(count)`` times the term's IDF, over the terms the model
knows, scaled to unit length. Fitted by `bot.fitting` (scikit-learn, the ``calibrate`` extra);
read at run time with numpy only.
"""

from __future__ import annotations

import base64
import math
import threading
from array import array
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise
from operator import mul
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.corpus import F64, I64
from bot.examples import words

UNKNOWN = -1.0  # the score of an entry the model has no row for (the classifier's "not this one")
# the off-topic labelled questions are one more class (no entry id has underscores), scored by
# `WordingScorer.scores` as the pseudo entry number OFF
OFF_TOPIC = "__off_topic__"
OFF = -1
C = 0.5  # LinearSVC's regularisation (0.2: 68.8 %, 0.5: 69.2 % out of fold)
MIN_DF = 2  # terms used by fewer documents are left out (the same figures, a quarter of the terms)
DIGITS = 5  # weights and IDFs are stored rounded to this many decimals


_PACKED_TYPES = ("<f8", "<i4")


def packed(values: npt.NDArray[Any], dtype: str) -> dict[str, str]:
    """A 1-D array as ``{"dtype": ..., "base64": ...}``: its values' bytes, exactly (``<f8``:
    little-endian float64; ``<i4``: int32)."""
    data = np.ascontiguousarray(values, dtype)
    if dtype == "<i4" and not np.array_equal(data, values):
        raise ValueError("wording: a number does not fit in 32 bits")
    return {"dtype": dtype, "base64": base64.b64encode(data.tobytes()).decode("ascii")}


def unpacked(value: Mapping[str, Any]) -> npt.NDArray[Any]:
    """The array `packed` stored (ValueError when it is not one)."""
    dtype, text = value.get("dtype"), value.get("base64")
    if dtype not in _PACKED_TYPES or not isinstance(text, str):
        raise ValueError(f"wording: not a packed array of {' or '.join(_PACKED_TYPES)}")
    raw = base64.b64decode(text, validate=True)  # (binascii.Error is a ValueError)
    if len(raw) % np.dtype(dtype).itemsize:
        raise ValueError("wording: a packed array's length is not a whole number of values")
    return np.frombuffer(raw, dtype)


def terms(said: Sequence[str]) -> list[str]:
    """The words and the pairs of adjacent words (``"image pull"``), as scikit-learn forms them."""
    return [*said, *(f"{a} {b}" for a, b in pairwise(said))]


@dataclass(frozen=True, slots=True, eq=False)
class WordingModel:
    """The fitted classifier as stored in calibration.json: the terms and their IDF, then per
    class (an entry id) its intercept and its positive weights (``ptr`` delimits each class's run of
    ``term``/``weight``). Numbers are kept as arrays (~2 MB for the bundled model; as Python
    numbers they took ~10 MB, which the 100k-entry build's peak could not spare)."""

    vocabulary: tuple[str, ...]
    idf: F64
    classes: tuple[str, ...]
    intercept: F64
    ptr: I64
    term: I64
    weight: F64

    def __post_init__(self) -> None:
        n, k = len(self.vocabulary), len(self.classes)
        if len(self.idf) != n or len(self.intercept) != k or len(self.ptr) != k + 1:
            raise ValueError("wording: the lengths of vocabulary/idf or classes/intercept/ptr differ")
        if len(self.term) != len(self.weight) or self.ptr[0] != 0 or self.ptr[-1] != len(self.term):
            raise ValueError("wording: ptr does not delimit term/weight")
        if (np.diff(self.ptr) < 0).any() or ((self.term < 0) | (self.term >= n)).any():
            raise ValueError("wording: a class's run or a term number is out of range")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, WordingModel):
            return NotImplemented
        return all(
            np.array_equal(getattr(self, f), getattr(other, f))
            for f in ("vocabulary", "idf", "classes", "intercept", "ptr", "term", "weight")
        )

    __hash__ = None  # type: ignore[assignment]

    @classmethod
    def empty(cls) -> WordingModel:
        none = np.zeros(0)
        return cls((), none, (), none, np.zeros(1, np.int64), np.zeros(0, np.int64), none)

    def to_dict(self) -> dict[str, Any]:
        """As stored: the long number lists (``idf``, ``term``, ``weight``: ~100k numbers) packed
        (`packed`), which JSON reads in a third of the time of decimal lists (~30 ms of every
        `kubebot ask`); the short ones as lists."""
        return {
            "vocabulary": list(self.vocabulary),
            "idf": packed(self.idf, "<f8"),
            "classes": list(self.classes),
            "intercept": self.intercept.tolist(),
            "ptr": self.ptr.tolist(),
            "term": packed(self.term, "<i4"),
            "weight": packed(self.weight, "<f8"),
        }

    @classmethod
    def from_dict(cls, data: Any) -> WordingModel:
        """Reads `to_dict`'s form, and lists of numbers in any field (as calibrations written
        before the packing have them)."""

        def numbers(key: str, kind: type[np.generic]) -> Any:
            value = data[key]
            values = unpacked(value).astype(kind) if isinstance(value, dict) else np.array(value, kind)
            if values.ndim != 1:
                raise ValueError(f"wording: {key} is not a list of numbers")
            return values

        return cls(
            tuple(map(str, data["vocabulary"])),
            numbers("idf", np.float64),
            tuple(map(str, data["classes"])),
            numbers("intercept", np.float64),
            numbers("ptr", np.int64),
            numbers("term", np.int64),
            numbers("weight", np.float64),
        )


class WordingScorer:
    """A `WordingModel` laid out for the entries a matcher knows (``rows``: entry id → the matcher's
    entry number); scores candidates by entry number."""

    def __init__(self, model: WordingModel | None, rows: Mapping[str, int]) -> None:
        model = model or WordingModel.empty()
        n = self._n = len(model.vocabulary)
        # a word's term number, and a pair's by the code (first word's number) * n + second's: a
        # pair's words are terms too (a pair in two documents has each of its words in two)
        self._word: dict[str, int] = {t: i for i, t in enumerate(model.vocabulary) if " " not in t}
        self._pair: dict[int, int] = {}
        word = self._word.get
        for i, t in enumerate(model.vocabulary):
            if " " in t:
                first, _, second = t.partition(" ")
                a, b = word(first), word(second)
                if a is not None and b is not None:
                    self._pair[a * n + b] = i
        self._idf: list[float] = model.idf.tolist()
        # per entry number: its class's intercept and its run of terms and weights
        bias, ptr = model.intercept.tolist(), model.ptr.tolist()
        self._runs: dict[int, tuple[float, int, int]] = {
            rows[c]: (bias[k], ptr[k], ptr[k + 1]) for k, c in enumerate(model.classes) if c in rows
        }
        self._term, self._weight = model.term, model.weight
        # the off-topic class by term: its run is the longest (~7k weights), too long to gather
        # for every question, while a question has a few dozen terms to look up (in a packed
        # array: one memory read a term, where a dict took three)
        self._off: tuple[float, array[float]] | None = None
        if OFF_TOPIC in model.classes:
            k = model.classes.index(OFF_TOPIC)
            dense = np.zeros(n)
            dense[model.term[ptr[k] : ptr[k + 1]]] = model.weight[ptr[k] : ptr[k + 1]]
            self._off = bias[k], array("d", dense.tobytes())
        self._scratch = threading.local()  # per-thread query vector (as bot.examples)

    def scores(self, said: Sequence[str], entries: Sequence[int]) -> list[float]:
        """Per entry number in ``entries`` (`OFF`: the off-topic class): the classifier's score of a
        question of ``said`` (`bot.examples.words`); `UNKNOWN` for an entry the model has no row for."""
        runs, off = self._runs, self._off
        present = [k for k, e in enumerate(entries) if e in runs]
        asked_off = off is not None and OFF in entries
        out = [UNKNOWN] * len(entries)
        if not present and not asked_off:
            return out
        q_terms, values, norm = self._query(said)
        if off is not None and asked_off:
            off_bias, off_weight = off
            dot = sum(map(mul, values, map(off_weight.__getitem__, q_terms)))
            out[entries.index(OFF)] = off_bias + dot / norm
        chosen = [runs[entries[k]] for k in present]
        dots = [0.0] * len(chosen)
        # the candidates' runs of terms and weights in one array each, summed run by run (a run of
        # no weights adds nothing: reduceat would repeat the next run's first)
        full = [r for r in chosen if r[2] > r[1]] if q_terms else []
        if full:
            q_vector: F64 | None = getattr(self._scratch, "query", None)
            if q_vector is None:
                q_vector = self._scratch.query = np.zeros(len(self._idf))
            q_vector[q_terms] = values
            try:
                term, weight = self._term, self._weight
                picked = np.concatenate([term[a:b] for _, a, b in full])
                products = q_vector[picked] * np.concatenate([weight[a:b] for _, a, b in full])
                starts = list(accumulate((b - a for _, a, b in full[:-1]), initial=0))
                sums = iter(np.add.reduceat(products, starts).tolist())
                dots = [next(sums) / norm if b > a else 0.0 for _, a, b in chosen]
            finally:
                q_vector[q_terms] = 0.0
        for (bias, _a, _b), dot, k in zip(chosen, dots, present, strict=True):
            out[k] = bias + dot
        return out

    def _query(self, said: Sequence[str]) -> tuple[list[int], list[float], float]:
        """The question's terms (words, then known pairs of adjacent words), their TF-IDF values and
        the vector's length (1 when it has no known term)."""
        get, pair, n, idf = self._word.get, self._pair.get, self._n, self._idf
        ids = [get(w, -1) for w in said]
        found = [i for i in ids if i >= 0]
        found += [t for a, b in pairwise(ids) if a >= 0 and b >= 0 and (t := pair(a * n + b)) is not None]
        if not found:
            return [], [], 1.0
        if len(set(found)) == len(found):  # no term twice (most chat lines, few posts): no counting
            values = [idf[t] for t in found]
        else:
            counts = Counter(found)
            found = list(counts)
            values = [(1.0 + math.log(c) if c > 1 else 1.0) * idf[t] for t, c in counts.items()]
        return found, values, math.sqrt(sum(map(mul, values, values)))


def fit_wording(documents: Sequence[tuple[str, str]]) -> WordingModel | None:
    """The classifier fitted on ``documents`` ((text, entry id) pairs; scikit-learn); None when they
    name fewer than two entries."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    labels = [entry for _, entry in documents]
    if len(set(labels)) < 2:
        return None
    vectorizer = TfidfVectorizer(
        sublinear_tf=True, analyzer=lambda text: terms(words(text)), min_df=min(MIN_DF, len(documents))
    )
    x = vectorizer.fit_transform([text for text, _ in documents])
    svc = LinearSVC(C=C, dual=True, random_state=0, max_iter=5000).fit(x, labels)
    coef, intercept = svc.coef_, svc.intercept_
    if coef.shape[0] == 1:  # two classes: one row, for the second
        coef, intercept = np.vstack([-coef[0], coef[0]]), np.array([-intercept[0], intercept[0]])
    coef = np.round(coef, DIGITS)
    rows, cols = (coef > 0.0).nonzero()  # row-major: class by class, terms in order
    ptr = np.searchsorted(rows, np.arange(coef.shape[0] + 1))
    vocabulary = vectorizer.get_feature_names_out().tolist()
    return WordingModel(
        tuple(vocabulary),
        np.round(vectorizer.idf_, DIGITS).astype(np.float64),
        tuple(str(c) for c in svc.classes_),
        np.round(intercept, DIGITS).astype(np.float64),
        ptr.astype(np.int64),
        cols.astype(np.int64),
        coef[rows, cols].astype(np.float64),
    )
