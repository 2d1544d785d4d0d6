"""From ranked evidence to a band: answer, answer with alternatives, did you mean, or decline.

The matcher ranks entries and measures the evidence behind each candidate (`Evidence`). Two
models turn that evidence into probabilities: `answer` — the top candidate is the entry the asker
wants; a few small gradient-boosted trees, or a logistic regression when fitted on few questions —
and `topic` — the question is about what this knowledge base covers (logistic). Thresholds on
those probabilities choose the band. Coefficients and thresholds are data, fitted by
`benchmarks/calibrate.py` (or `kubebot kb calibrate` for a team's own knowledge base) and read from a
JSON file: `bot/calibration.json` for the bundled knowledge base, or `calibration.json` next to a
team's entries.
"""

from __future__ import annotations

import json
import math
import operator
import re
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.evidence import FEATURES, TOPIC_FEATURES, TOPIC_INDEX, Evidence
from bot.models import Band, Candidate, Example, MatchResult
from bot.wording import WordingModel

BUNDLED = Path(__file__).resolve().parent / "calibration.json"
FILE_NAME = "calibration.json"  # a knowledge base directory may carry its own

EXACT_CONFIDENCE = 0.99  # the question is one of the entry's own questions, word for word
_EXACT = FEATURES.index("exact")


class CalibrationError(ValueError):
    """A calibration file is missing, unreadable or does not fit the features."""


@dataclass(frozen=True, slots=True)
class LogisticModel:
    intercept: float
    coef: tuple[float, ...]

    def probability(self, x: Sequence[float]) -> float:
        if len(x) != len(self.coef):
            raise ValueError(f"{len(x)} features for {len(self.coef)} coefficients")
        z = self.intercept + sum(map(operator.mul, self.coef, x))  # in order, as a loop would add
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


# one tree node: (feature, threshold, left, right, value); a leaf has feature -1 and only a value
Node = tuple[int, float, int, int, float]
_MAX_TABLE_CELLS = 4_000_000  # tables over three or more features may not fit
_ALL = range(len(FEATURES))


@dataclass(frozen=True, slots=True)
class TreeModel:
    """Gradient-boosted trees (scikit-learn's HistGradientBoostingClassifier, exported by
    `bot/fitting.py`): the logistic of the baseline plus, for each tree, the value of the leaf the
    features reach (left when the feature is at most the node's threshold).

    At load the trees become tables. Each feature's thresholds (over all trees) cut its values into
    bins, and a leaf depends only on the bins of the few features on its path: so the leaves of all
    trees whose paths read the same features add up into one table over those features' bins (an
    ensemble whose paths read two features each: about a hundred small tables). Per question, for
    all candidates at once: one comparison with every threshold, the bins counted from it, one
    product of the bins with the tables' strides gives every table's cell, and the cells are summed
    — a handful of numpy calls whatever the number of trees."""

    baseline: float
    trees: tuple[tuple[Node, ...], ...]
    _tables: tuple[np.ndarray, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for tree in self.trees:  # every split leads further down its tree
            for i, (feature, _threshold, left, right, _value) in enumerate(tree):
                if feature >= len(FEATURES) or (
                    feature >= 0 and not i < min(left, right) <= max(left, right) < len(tree)
                ):
                    raise ValueError(f"tree node {i} {tree[i]} does not fit")
        seen: dict[int, set[float]] = {f: set() for f in _ALL}
        for tree in self.trees:
            for f, threshold, *_ in tree:
                if f >= 0:
                    seen[f].add(threshold)
        cuts = {f: sorted(seen[f]) for f in _ALL}
        used = [f for f in _ALL if cuts[f]]
        place = {(f, c): k for f in used for k, c in enumerate(cuts[f])}  # a cut's bin boundary
        tables: dict[tuple[int, ...], np.ndarray] = {}
        size = 0  # cells in all tables
        constant = 0.0

        def walk(tree: tuple[Node, ...], i: int, box: dict[int, tuple[int, int]]) -> None:
            """Down to the leaves, with the box of bins [lo, hi) per feature the path allows."""
            nonlocal constant, size
            f, threshold, left, right, value = tree[i]
            if f >= 0:
                k = place[f, threshold]  # left: at most the k-th cut, i.e. bins 0..k
                lo, hi = box.get(f, (0, len(cuts[f]) + 1))
                walk(tree, left, {**box, f: (lo, min(hi, k + 1))})
                walk(tree, right, {**box, f: (max(lo, k + 1), hi)})
                return
            if not box:
                constant += value
                return
            key = tuple(sorted(box))
            table = tables.get(key)
            if table is None:
                table = tables[key] = np.zeros([len(cuts[g]) + 1 for g in key])
                size += table.size
                if size > _MAX_TABLE_CELLS:
                    raise ValueError("trees too deep to lay out as tables")
            table[tuple(slice(*box[g]) for g in key)] += value

        for tree in self.trees:
            if tree:
                walk(tree, 0, {})
        # bins: the comparisons with every cut, feature by feature, summed per feature; a last
        # column always 1 carries each table's offset in the flat cells
        column = {f: j for j, f in enumerate(used)}
        keys = list(tables)
        strides = np.zeros((len(used) + 1, len(keys)))
        offset = 0
        for g, key in enumerate(keys):
            for g_f, stride in zip(key, np.array(tables[key].strides) // 8, strict=True):
                strides[column[g_f], g] = stride
            strides[-1, g] = offset
            offset += tables[key].size
        compare_feature = np.array([f for f in used for _ in cuts[f]] + [0], np.intp)
        compare_cut = np.array([c for f in used for c in cuts[f]] + [-np.inf])
        starts = np.cumsum([0] + [len(cuts[f]) for f in used], dtype=np.intp)
        cells = np.concatenate([tables[k].ravel() for k in keys] + [np.zeros(1)])
        if not keys:  # only single leaves: one cell of zeros, the constant goes to the baseline
            strides = np.zeros((1, 1))
        object.__setattr__(
            self,
            "_tables",
            (compare_feature, compare_cut, starts, strides, cells, np.array(self.baseline + constant)),
        )

    def probabilities(self, rows: Sequence[Sequence[float]]) -> list[float]:
        """For each row of features (one per candidate), all trees at once."""
        if not len(rows):
            return []
        compare_feature, compare_cut, starts, strides, cells, baseline = self._tables
        x = np.asarray(rows, dtype=float)
        if x.ndim != 2 or x.shape[1] != len(FEATURES):
            raise ValueError(f"rows of {len(FEATURES)} features expected, got shape {x.shape}")
        bins = np.add.reduceat(x.take(compare_feature, axis=1) > compare_cut, starts, axis=1, dtype=float)
        sums = np.add.reduce(cells.take((bins @ strides).astype(np.intp)), axis=1).tolist()
        b = float(baseline)
        return [1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, b + z)))) for z in sums]

    def probability(self, x: Sequence[float]) -> float:
        return self.probabilities([x])[0]


AnswerModel = LogisticModel | TreeModel


def _answer_dict(model: AnswerModel) -> dict[str, Any]:
    if isinstance(model, TreeModel):
        return {"baseline": model.baseline, "trees": [[list(node) for node in tree] for tree in model.trees]}
    return {"intercept": model.intercept, "coef": list(model.coef)}


def _answer_model(data: Any) -> AnswerModel:
    if "trees" not in data:
        return LogisticModel(float(data["intercept"]), tuple(map(float, data["coef"])))
    trees = tuple(
        tuple((int(f), float(t), int(left), int(right), float(v)) for f, t, left, right, v in tree)
        for tree in data["trees"]
    )
    if not trees or not all(trees):
        raise ValueError("no trees, or an empty one")
    return TreeModel(float(data["baseline"]), trees)


@dataclass(frozen=True, slots=True)
class Thresholds:
    answer: float  # answer outright at or above this probability that the top entry is right
    alternatives: float  # answer and offer "Not this?" alternatives at or above this
    topic: float  # below the answer bands: did-you-mean when on topic at least this likely
    alternative_floor: float = 0.05  # an alternative is offered only when at least this likely
    max_alternatives: int = 3
    max_suggestions: int = 5


@dataclass(frozen=True, slots=True)
class Calibration:
    """The two fitted models (is the top entry right? is the question on topic?) and the thresholds
    that turn their probabilities into a band; read from calibration.json (see the module docstring)."""

    answer: AnswerModel
    topic: LogisticModel
    thresholds: Thresholds
    source: str = field(default="", compare=False)
    meta: dict[str, Any] = field(default_factory=dict, compare=False)
    # the labelled questions the models were fitted with (bot/examples.py), threads left out
    examples: tuple[Example, ...] = field(default=(), repr=False)
    # the classifier from their wording to their entries (bot/wording.py)
    wording: WordingModel | None = field(default=None, repr=False)

    # -- probabilities ----------------------------------------------------------------------------
    def p_answer(self, evidence: Evidence) -> float:
        return self.p_answers([evidence])[0]

    def p_answers(self, ranked: Sequence[Evidence]) -> list[float]:
        if isinstance(self.answer, TreeModel):
            ps = self.answer.probabilities([e.features for e in ranked])
        else:
            ps = [self.answer.probability(e.features) for e in ranked]
        return [
            max(p, EXACT_CONFIDENCE) if e.features[_EXACT] >= 1.0 else p
            for p, e in zip(ps, ranked, strict=True)
        ]

    @staticmethod
    def supported(evidence: Evidence) -> bool:
        """Enough evidence to answer at all: one ordinary word in common ("today") never is; a
        domain word (kubectl, CrashLoopBackOff) or two words found together in one question is."""
        return (
            evidence.feature("exact") >= 1.0
            or evidence.feature("anchors") > 0.0
            or evidence.feature("together") >= 0.5
        )

    def p_topic(self, evidence: Evidence) -> float:
        return self.topic.probability([evidence.features[i] for i in TOPIC_INDEX])

    # -- the decision -----------------------------------------------------------------------------
    def decide(self, ranked: Sequence[Evidence], thresholds: Thresholds | None = None) -> MatchResult:
        """Rank by the answer model and choose the band (see the module docstring)."""
        t = thresholds or self.thresholds
        if not ranked:
            return MatchResult(Band.DECLINED)
        ps = self.p_answers(ranked)
        # most probable first; the sort is stable with reverse too, so ties keep the matcher's order
        order = sorted(range(len(ps)), key=ps.__getitem__, reverse=True)
        candidates = tuple([Candidate(ranked[i].entry_id, ranked[i].title, round(ps[i], 4)) for i in order])
        top_p, top = ps[order[0]], ranked[order[0]]
        if top.feature("exact") >= 1.0:  # the author's own wording of one of its questions
            return MatchResult(Band.ANSWERED, candidates)
        # the answer model learnt from off-topic questions too (all their candidates are wrong),
        # so a likely answer needs no separate topic gate; the topic model splits the rest
        if not self.supported(top):
            top_p = 0.0
        if top_p >= t.answer:
            return MatchResult(Band.ANSWERED, candidates)
        if top_p >= t.alternatives:
            offers = tuple(c for c in candidates[1:] if c.confidence >= t.alternative_floor)
            return MatchResult(Band.ANSWERED_WITH_ALTERNATIVES, candidates, offers[: t.max_alternatives])
        if self.p_topic(top) >= t.topic:
            return MatchResult(Band.SUGGESTED, candidates[: t.max_suggestions])
        return MatchResult(Band.DECLINED, candidates[:3])

    @classmethod
    def neutral(cls) -> Calibration:
        """Answers nothing and declines everything: for computing evidence before any fit."""
        return cls(
            LogisticModel(-30.0, (0.0,) * len(FEATURES)),
            LogisticModel(-30.0, (0.0,) * len(TOPIC_FEATURES)),
            Thresholds(1.0, 1.0, 1.0),
            "neutral",
        )

    # -- files ------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "features": list(FEATURES),
            "answer": _answer_dict(self.answer),
            "topic": {"intercept": self.topic.intercept, "coef": list(self.topic.coef)},
            "thresholds": {
                "answer": self.thresholds.answer,
                "alternatives": self.thresholds.alternatives,
                "topic": self.thresholds.topic,
            },
            **({"meta": self.meta} if self.meta else {}),
            **({"wording": self.wording.to_dict()} if self.wording else {}),
            "examples": [[e.entry, e.text] for e in self.examples],
        }

    @classmethod
    def from_dict(cls, data: Any, source: str = "") -> Calibration:
        try:
            if list(data["features"]) != list(FEATURES):
                raise CalibrationError(
                    f"{source}: fitted on features {data['features']}, this kubebot computes "
                    f"{list(FEATURES)}; refit with `kubebot kb calibrate`"
                )
            answer = _answer_model(data["answer"])
            topic = LogisticModel(float(data["topic"]["intercept"]), tuple(map(float, data["topic"]["coef"])))
            t = data["thresholds"]
            thresholds = Thresholds(float(t["answer"]), float(t["alternatives"]), float(t["topic"]))
            examples = tuple(Example(*_pair(pair)) for pair in data.get("examples") or ())
            wording = WordingModel.from_dict(data["wording"]) if data.get("wording") else None
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, CalibrationError):
                raise
            raise CalibrationError(f"{source}: not a calibration file ({exc!r})") from None
        if isinstance(answer, LogisticModel) and len(answer.coef) != len(FEATURES):
            raise CalibrationError(f"{source}: wrong number of coefficients")
        if len(topic.coef) != len(TOPIC_FEATURES):
            raise CalibrationError(f"{source}: wrong number of coefficients")
        if not 0.0 <= thresholds.alternatives <= thresholds.answer <= 1.0:
            raise CalibrationError(f"{source}: thresholds must satisfy 0 <= alternatives <= answer <= 1")
        return cls(answer, topic, thresholds, source, dict(data.get("meta") or {}), examples, wording)

    @classmethod
    def load(cls, path: Path) -> Calibration:
        """The calibration in ``path``. One loaded before from the same bytes (the same length and
        CRC-32) is shared rather than parsed again: a calibration is never changed once made, and
        each reload parsed the 3 MB bundled one (~45 ms, 10-15 of it in one call that holds the
        interpreter lock while answers wait; the CRC takes ~1 ms)."""
        try:
            raw = path.read_bytes()
            key, stamp = str(path.resolve()), (len(raw), zlib.crc32(raw))
            with _LOADED_LOCK:
                known = _LOADED.get(key)
            if known is not None and known[0] == stamp:
                return known[1]
            data = json.loads(raw.decode("utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CalibrationError(f"cannot read calibration {path}: {exc}") from None
        loaded = cls.from_dict(data, str(path))
        with _LOADED_LOCK:
            if len(_LOADED) >= _LOADED_KEPT:
                _LOADED.clear()
            _LOADED[key] = (stamp, loaded)
        return loaded

    def save(self, path: Path) -> None:
        data = self.to_dict()
        examples = data.pop("examples")
        wording = data.pop("wording", None)
        text = json.dumps(data, indent=2)
        # a list of numbers on one line: a tree node, or the coefficients
        text = re.sub(r"\[\s*(-?[0-9][^\[\]\"]*?)\s*\]", lambda m: json.dumps(json.loads(m[0])), text)
        # the wording model, a field per line (the long number lists packed: `bot.wording.packed`)
        if wording:
            lists = ",\n".join(f"    {json.dumps(k)}: {json.dumps(v)}" for k, v in wording.items())
            text = text.removesuffix("\n}") + f',\n  "wording": {{\n{lists}\n  }}\n}}'
        # then the examples, one per line: ["entry-id", "what the matcher read"]
        rows = ",\n".join(f"    {json.dumps(pair)}" for pair in examples)
        text = text.removesuffix("\n}") + f',\n  "examples": [\n{rows}\n  ]\n}}'
        path.write_text(text + "\n", encoding="utf-8")


_LOADED_KEPT = 4  # calibration files whose last load is kept (`Calibration.load`)
_LOADED: dict[str, tuple[tuple[int, int], Calibration]] = {}
_LOADED_LOCK = threading.Lock()


def _pair(pair: Any) -> tuple[str, str]:
    """An example as stored: [entry id, text]."""
    if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(v, str) for v in pair)):
        raise ValueError(f"an example is [entry id, text], got {pair!r:.80}")
    return pair[0], pair[1]


def for_knowledge_base(kb_root: Path | None) -> Calibration:
    """The calibration a knowledge base carries (`calibration.json` in its directory), else the
    bundled one."""
    if kb_root is not None and (kb_root / FILE_NAME).is_file():
        return Calibration.load(kb_root / FILE_NAME)
    return Calibration.load(BUNDLED)
