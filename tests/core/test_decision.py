"""The decision: calibrated probabilities to bands, calibration files, and the shipped fit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.decision import (
    BUNDLED,
    FEATURES,
    TOPIC_FEATURES,
    Calibration,
    CalibrationError,
    Evidence,
    LogisticModel,
    Thresholds,
    for_knowledge_base,
)
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
