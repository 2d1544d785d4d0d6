"""The decision: calibrated probabilities to bands, calibration files, and the shipped fit."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.decision import (
    BUNDLED,
    Calibration,
    CalibrationError,
    LogisticModel,
    Thresholds,
    TreeModel,
    for_knowledge_base,
)
from bot.evidence import FEATURES, TOPIC_FEATURES, Evidence
from bot.models import Band
from tests.conftest import ROOT


def evidence(entry_id: str, score: float, exact: bool = False, together: float = 0.5) -> Evidence:
    values = dict.fromkeys(FEATURES, 0.0)
    values["score"] = score
    values["exact"] = float(exact)
    values["together"] = together  # two question words found together: enough to answer
    return Evidence(entry_id, entry_id.title(), tuple(values[f] for f in FEATURES))


def calibration(topic_score_weight: float = 10.0) -> Calibration:
    """p_answer = sigmoid(20 * (score - 0.5)); p_topic = sigmoid(10 * (score - 0.3))."""
    answer = LogisticModel(-10.0, tuple(20.0 if f == "score" else 0.0 for f in FEATURES))
    topic = LogisticModel(
        -0.3 * topic_score_weight, tuple(topic_score_weight if f == "score" else 0.0 for f in TOPIC_FEATURES)
    )
    return Calibration(answer, topic, Thresholds(answer=0.9, alternatives=0.6, topic=0.5))


def test_each_band_by_probability() -> None:
    c = calibration()
    assert c.decide([evidence("a", 0.7), evidence("b", 0.4)]).band is Band.ANSWERED  # p = 0.98
    with_alternatives = c.decide([evidence("a", 0.53), evidence("b", 0.45), evidence("c", 0.1)])
    assert with_alternatives.band is Band.ANSWERED_WITH_ALTERNATIVES  # p = 0.65
    assert [x.entry_id for x in with_alternatives.alternatives] == ["b"]  # c is below the floor
    assert c.decide([evidence("a", 0.4), evidence("b", 0.38)]).band is Band.SUGGESTED  # on topic only
    assert c.decide([evidence("a", 0.1)]).band is Band.DECLINED
    assert c.decide([]).band is Band.DECLINED


def test_the_topic_model_only_splits_did_you_mean_from_decline() -> None:
    strict_topic = Calibration(calibration().answer, calibration().topic, Thresholds(0.9, 0.6, topic=0.9999))
    assert strict_topic.decide([evidence("a", 0.7)]).band is Band.ANSWERED  # the answer model decides
    assert strict_topic.decide([evidence("a", 0.4)]).band is Band.DECLINED  # not did-you-mean


def test_one_ordinary_word_in_common_is_never_an_answer() -> None:
    c = calibration()
    assert c.decide([evidence("a", 0.9, together=0.25)]).band is Band.SUGGESTED  # p = 1.0, one word
    with_domain_word = Evidence(
        "a",
        "A",
        tuple(
            1.0 if f == "anchors" else v
            for f, v in zip(FEATURES, evidence("a", 0.9, together=0.25).features, strict=True)
        ),
    )
    assert c.decide([with_domain_word]).band is Band.ANSWERED


def test_an_exact_question_is_answered_however_low_its_score() -> None:
    result = calibration().decide([evidence("b", 0.3), evidence("a", 0.2, exact=True)])
    assert result.band is Band.ANSWERED and result.best is not None and result.best.entry_id == "a"


def test_calibration_file_round_trip_and_validation(tmp_path: Path) -> None:
    c = calibration()
    c.save(tmp_path / "calibration.json")
    assert Calibration.load(tmp_path / "calibration.json") == c
    data = c.to_dict()
    bad = {**data, "features": ["score"]}
    with pytest.raises(CalibrationError, match="refit with `kubebot kb calibrate`"):
        Calibration.from_dict(bad, "x.json")
    with pytest.raises(CalibrationError, match="alternatives <= answer"):
        Calibration.from_dict({**data, "thresholds": {"answer": 0.5, "alternatives": 0.7, "topic": 0.5}})
    (tmp_path / "broken.json").write_text("{", encoding="utf-8")
    with pytest.raises(CalibrationError, match="cannot read calibration"):
        Calibration.load(tmp_path / "broken.json")


def test_a_calibration_file_is_parsed_again_only_when_its_bytes_change(tmp_path: Path) -> None:
    path = tmp_path / "calibration.json"
    calibration().save(path)
    first = Calibration.load(path)
    assert Calibration.load(path) is first  # shared: a reload does not parse it again
    stamp = path.stat().st_mtime_ns
    bolder = replace(calibration(), thresholds=Thresholds(0.5, 0.4, 0.3))
    bolder.save(path)
    os.utime(path, ns=(stamp, stamp))  # even with the same modification time
    again = Calibration.load(path)
    assert again is not first and again.thresholds == Thresholds(0.5, 0.4, 0.3)
    path.write_text("{", encoding="utf-8")  # broken now: an error, never the last good one
    with pytest.raises(CalibrationError, match="cannot read calibration"):
        Calibration.load(path)


def test_a_knowledge_base_may_carry_its_own_calibration(tmp_path: Path) -> None:
    assert for_knowledge_base(tmp_path) == Calibration.load(BUNDLED)
    calibration().save(tmp_path / "calibration.json")
    assert for_knowledge_base(tmp_path) == calibration()


def test_shipped_calibration_is_what_the_script_fits() -> None:
    """bot/calibration.json must be reproducible from the calibration sets by the script."""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "calibrate.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    shipped = json.loads(BUNDLED.read_text(encoding="utf-8"))
    assert shipped["features"] == list(FEATURES)


def flat(p_answer: float = 0.5, p_topic: float = 0.5, thresholds: Thresholds | None = None) -> Calibration:
    """Models that give every candidate the same probabilities (intercept only)."""
    logit = lambda p: math.log(p / (1 - p))  # noqa: E731
    return Calibration(
        LogisticModel(logit(p_answer), (0.0,) * len(FEATURES)),
        LogisticModel(logit(p_topic), (0.0,) * len(TOPIC_FEATURES)),
        thresholds or Thresholds(answer=0.9, alternatives=0.6, topic=0.5),
    )


def test_each_threshold_is_reached_at_equality() -> None:
    one = [evidence("a", 0.5)]
    assert flat(0.5, thresholds=Thresholds(answer=0.5, alternatives=0.4, topic=0.9)).decide(one).band is (
        Band.ANSWERED
    )
    assert flat(0.5, thresholds=Thresholds(answer=0.9, alternatives=0.5, topic=0.9)).decide(one).band is (
        Band.ANSWERED_WITH_ALTERNATIVES
    )
    assert flat(0.25, 0.5).decide(one).band is Band.SUGGESTED  # topic threshold 0.5
    assert flat(0.25, 0.4999).decide(one).band is Band.DECLINED


def test_the_thresholds_passed_to_decide_win_over_the_fitted_ones() -> None:
    c = calibration()  # answers at p >= 0.9
    assert c.decide([evidence("a", 0.6)]).band is Band.ANSWERED_WITH_ALTERNATIVES  # p = 0.88
    assert c.decide([evidence("a", 0.6)], Thresholds(0.85, 0.6, 0.5)).band is Band.ANSWERED


def test_an_exact_question_is_answered_above_any_answer_threshold() -> None:
    strict = Calibration(calibration().answer, calibration().topic, Thresholds(0.999, 0.998, 0.5))
    exact_only = Evidence("a", "A", tuple(1.0 if f == "exact" else 0.0 for f in FEATURES))
    result = strict.decide([evidence("b", 0.5), exact_only])
    assert result.band is Band.ANSWERED and result.best is not None and result.best.entry_id == "a"  # 0.99
    assert Calibration.supported(exact_only)  # the fit (bot/fitting.py) asks this too


def test_alternatives_suggestions_and_declines_are_capped_to_the_likeliest() -> None:
    c = calibration()
    many = [evidence("top", 0.53), *(evidence(f"alt{i}", 0.45 - i / 100) for i in range(6))]
    offered = c.decide(many)
    assert offered.band is Band.ANSWERED_WITH_ALTERNATIVES
    assert [x.entry_id for x in offered.alternatives] == ["alt0", "alt1", "alt2"]  # max_alternatives
    assert offered.candidates[0].confidence == 0.6457  # sigmoid(20 * 0.03), rounded to 4 places
    on_topic = c.decide([evidence(f"e{i}", 0.4 - i / 100) for i in range(8)])
    assert on_topic.band is Band.SUGGESTED
    assert [x.entry_id for x in on_topic.candidates] == ["e0", "e1", "e2", "e3", "e4"]  # max_suggestions
    declined = c.decide([evidence(f"d{i}", 0.1 - i / 100) for i in range(5)])
    assert declined.band is Band.DECLINED and [x.entry_id for x in declined.candidates] == ["d0", "d1", "d2"]


def test_the_topic_model_reads_its_features_by_name() -> None:
    """TOPIC_FEATURES leaves out `margin`: every later feature moves one place down."""
    weights = tuple(5.0 if f == "exact" else 0.0 for f in TOPIC_FEATURES)
    c = Calibration(calibration().answer, LogisticModel(0.0, weights), calibration().thresholds)
    values = dict.fromkeys(FEATURES, 0.0) | {"exact": 1.0, "margin": -1.0}
    assert round(c.p_topic(Evidence("a", "A", tuple(values[f] for f in FEATURES))), 4) == 0.9933  # sigmoid(5)


def test_a_logistic_model_never_overflows() -> None:
    model = LogisticModel(0.0, (1.0,))
    assert model.probability([-5000.0]) < 1e-12 and model.probability([5000.0]) > 1 - 1e-12


def test_exported_trees_give_scikit_learns_probabilities() -> None:
    """`TreeModel` (numpy-free, run time) reproduces the fitted HistGradientBoostingClassifier."""
    np = pytest.importorskip("numpy")
    ensemble = pytest.importorskip("sklearn.ensemble")
    from bot.fitting import MONOTONE, TREE_PARAMS, export_trees

    rng = np.random.default_rng(7)
    x = rng.random((3000, len(FEATURES)))
    x[:, FEATURES.index("exact")] = rng.random(3000) < 0.1  # a 0/1 feature, split at 0.5
    logit = 4 * x[:, 0] - 3 * x[:, 3] * x[:, 16] + 2 * (x[:, 1] > 0.6) - 1.5
    y = (rng.random(3000) < 1 / (1 + np.exp(-logit))).astype(int)
    monotone = [int(f in MONOTONE) for f in FEATURES]
    fitted = ensemble.HistGradientBoostingClassifier(monotonic_cst=monotone, **TREE_PARAMS).fit(x, y)
    model = export_trees(fitted)
    assert len(model.trees) == TREE_PARAMS["max_iter"]
    fresh = rng.random((500, len(FEATURES))) * 1.2 - 0.1  # beyond the fitted range too
    fresh[:50] = x[:50]  # and exactly on fitted values
    expected = fitted.predict_proba(fresh)[:, 1]
    got = [model.probability(row.tolist()) for row in fresh]
    assert max(abs(a - b) for a, b in zip(got, expected.tolist(), strict=True)) < 1e-9
    for n in (2, 6, 7):  # a question's candidates at once, as `Calibration.decide` asks
        batched = [
            p for lo in range(0, 70, n) for p in model.probabilities(fresh[lo : min(lo + n, 70)].tolist())
        ]
        assert max(abs(a - b) for a, b in zip(batched, expected[:70].tolist(), strict=True)) < 1e-9


def test_trees_of_uneven_depth_are_walked_like_the_trees_themselves() -> None:
    """A leaf above the deepest level (laid out as splits that always go left) ends where it is."""
    np = pytest.importorskip("numpy")
    f = len(FEATURES)
    trees = (
        (
            (0, 0.5, 1, 2, 0.0),
            (-1, 0.0, 0, 0, 1.0),
            (3, 0.2, 3, 4, 0.0),
            (-1, 0.0, 0, 0, -2.0),
            (5, 0.7, 5, 6, 0.0),
            (-1, 0.0, 0, 0, 0.5),
            (-1, 0.0, 0, 0, 3.0),
        ),
        ((-1, 0.0, 0, 0, 0.25),),  # a single leaf
        ((1, 0.3, 1, 2, 0.0), (-1, 0.0, 0, 0, -1.0), (-1, 0.0, 0, 0, 2.0)),
    )
    model = TreeModel(0.1, trees)

    def walk(tree: tuple[tuple[int, float, int, int, float], ...], row: list[float]) -> float:
        i = 0
        while tree[i][0] >= 0:
            feature, threshold, left, right, _value = tree[i]
            i = left if row[feature] <= threshold else right
        return tree[i][4]

    rng = np.random.default_rng(3)
    rows = rng.random((40, f)).tolist()
    expected = [1 / (1 + math.exp(-(0.1 + sum(walk(t, r) for t in trees)))) for r in rows]
    got = model.probabilities(rows)
    assert max(abs(a - b) for a, b in zip(got, expected, strict=True)) < 1e-12
    assert len({round(p, 9) for p in got}) > 3  # the rows reach different leaves
    assert model.probabilities([]) == []  # a question without candidates
    with pytest.raises(ValueError, match="features expected"):
        model.probabilities([[0.5] * (f - 1)])


def test_trees_too_deep_for_tables_are_refused() -> None:
    """Tables over every cut of four features (61**4 cells) would not fit in memory: refused at
    load, where a calibration file reports it, not when a question comes."""
    stumps = tuple(
        ((f, i / 60, 1, 2, 0.0), (-1, 0.0, 0, 0, -0.1), (-1, 0.0, 0, 0, 0.1))
        for f in range(4)
        for i in range(60)
    )
    deep = ((0, 0.5, 1, 2, 0.0), (1, 0.5, 3, 4, 0.0), (-1, 0.0, 0, 0, 1.0), (2, 0.5, 5, 6, 0.0))
    deep += ((-1, 0.0, 0, 0, 1.0), (3, 0.5, 7, 8, 0.0), (-1, 0.0, 0, 0, 1.0))
    deep += ((-1, 0.0, 0, 0, 1.0), (-1, 0.0, 0, 0, 2.0))
    assert TreeModel(0.0, stumps).probabilities([[0.5] * len(FEATURES)])  # the stumps alone fit
    with pytest.raises(ValueError, match="too deep"):
        TreeModel(0.0, (*stumps, deep))


def test_a_tree_calibration_round_trips_and_bad_trees_are_refused(tmp_path: Path) -> None:
    i = FEATURES.index("score")
    tree = ((i, 0.5, 1, 2, 0.0), (-1, 0.0, 0, 0, -3.0), (-1, 0.0, 0, 0, 3.0))
    c = Calibration(TreeModel(0.25, (tree, tree)), calibration().topic, calibration().thresholds)
    c.save(tmp_path / "calibration.json")
    assert Calibration.load(tmp_path / "calibration.json") == c
    assert c.answer.probability(evidence("a", 0.5).features) == pytest.approx(1 / (1 + math.exp(5.75)))
    assert c.decide([evidence("a", 0.7)]).band is Band.ANSWERED  # p = sigmoid(6.25)
    data = c.to_dict()
    leaf = [-1, 0.0, 0, 0, 1.0]
    beyond, unknown_feature, loop = [i, 0.5, 1, 5, 0.0], [99, 0.5, 1, 2, 0.0], [i, 0.5, 0, 0, 0.0]
    for broken in ([[beyond, leaf]], [[unknown_feature, leaf, leaf]], [[loop, leaf]], [[]], []):
        with pytest.raises(CalibrationError, match="not a calibration file"):
            Calibration.from_dict({**data, "answer": {"baseline": 0.0, "trees": broken}})
