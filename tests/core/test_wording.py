"""The wording model (`bot.wording`): scikit-learn's words and pairs, its scores as scikit-learn's
classifier gives them (positive weights only), the file format, and a fitting question read by a
model that never saw its fold."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.decision import BUNDLED, Calibration, CalibrationError
from bot.evidence import FEATURES
from bot.examples import words
from bot.models import Example
from bot.service import Snapshot
from bot.wording import (
    OFF,
    OFF_TOPIC,
    UNKNOWN,
    WordingModel,
    WordingScorer,
    fit_wording,
    packed,
    terms,
    unpacked,
)

DOCUMENTS = [
    ("pod keeps restarting with CrashLoopBackOff after deploy", "crashloop"),
    ("CrashLoopBackOff back-off restarting failed container, exit code 1", "crashloop"),
    ("my pod is in CrashLoopBackOff and restarting every minute", "crashloop"),
    ("ErrImagePull: pull access denied for my private registry image", "imagepull"),
    ("ImagePullBackOff on a new deployment, pull access denied", "imagepull"),
    ("image pull fails with ImagePullBackOff from a private registry", "imagepull"),
    ("how does a Service find its pods, the selector does not match", "service"),
    ("service has no endpoints, the selector does not match the pods", "service"),
    ("a Service with no endpoints: selector labels on the pods", "service"),
]
ROWS = {"crashloop": 0, "imagepull": 1, "service": 2, "no-model-row": 3}
QUESTIONS = [
    "my pod keeps restarting: CrashLoopBackOff, back-off restarting the failed container",
    "pull access denied for the image in a private registry",
    "the service selector does not match any pods so there are no endpoints",
    "restarting restarting restarting pull pull",  # repeated words: 1 + log(count)
    "nothing here is known at all",
]


def test_terms_are_scikit_learns_words_and_pairs() -> None:
    from sklearn.feature_extraction.text import CountVectorizer

    text = "Pod's CrashLoopBackOff: exit-code 137, a b kubectl_get pod's x86_64"
    expected = CountVectorizer(ngram_range=(1, 2)).fit([text]).vocabulary_
    assert sorted(set(terms(words(text)))) == sorted(expected)


def _sklearn_scores(question: str) -> dict[str, float]:
    """What scikit-learn's own TF-IDF and LinearSVC give, with the negative weights dropped."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    vectorizer = TfidfVectorizer(sublinear_tf=True, ngram_range=(1, 2), min_df=2)
    x = vectorizer.fit_transform([t for t, _ in DOCUMENTS])
    svc = LinearSVC(C=0.5, dual=True, random_state=0, max_iter=5000).fit(x, [e for _, e in DOCUMENTS])
    q = vectorizer.transform([question]).toarray()[0]
    coef = np.maximum(np.round(svc.coef_, 5), 0.0)
    return {
        c: float(np.round(b, 5) + q @ w) for c, b, w in zip(svc.classes_, svc.intercept_, coef, strict=True)
    }


@pytest.mark.parametrize("question", QUESTIONS)
def test_scores_are_the_classifiers_with_its_positive_weights(question: str) -> None:
    model = fit_wording(DOCUMENTS)
    assert model is not None
    scorer = WordingScorer(model, ROWS)
    got = scorer.scores(words(question), [2, 0, 3, 1])
    expected = _sklearn_scores(question)
    assert got[0] == pytest.approx(expected["service"], abs=1e-4)
    assert got[1] == pytest.approx(expected["crashloop"], abs=1e-4)
    assert got[3] == pytest.approx(expected["imagepull"], abs=1e-4)
    assert got[2] == UNKNOWN  # an entry the model has no row for


def test_the_right_entry_scores_highest() -> None:
    scorer = WordingScorer(fit_wording(DOCUMENTS), ROWS)
    for question, entry in zip(QUESTIONS[:3], (0, 1, 2), strict=True):
        scores = scorer.scores(words(question), [0, 1, 2])
        assert max(range(3), key=scores.__getitem__) == entry, question


def test_only_positive_weights_are_kept_class_by_class() -> None:
    model = fit_wording(DOCUMENTS)
    assert model is not None
    assert model.classes == ("crashloop", "imagepull", "service")
    assert all(w > 0.0 for w in model.weight)
    for k in range(len(model.classes)):  # each class's terms in order, each once
        run = model.term[model.ptr[k] : model.ptr[k + 1]]
        assert list(run) == sorted(set(run))


def test_two_entries_and_one() -> None:
    two = [d for d in DOCUMENTS if d[1] != "service"]
    model = fit_wording(two)
    assert model is not None and model.classes == ("crashloop", "imagepull")
    scores = WordingScorer(model, ROWS).scores(words(QUESTIONS[1]), [0, 1])
    assert scores[1] > scores[0]
    assert fit_wording([d for d in DOCUMENTS if d[1] == "service"]) is None


def test_no_model_and_no_candidates() -> None:
    assert WordingScorer(None, ROWS).scores(["pod"], [0, 1]) == [UNKNOWN, UNKNOWN]
    assert WordingScorer(fit_wording(DOCUMENTS), ROWS).scores(["pod"], []) == []


def test_the_calibration_file_carries_the_model(tmp_path: Path) -> None:
    model = fit_wording(DOCUMENTS)
    assert model is not None
    calibration = replace(Calibration.load(BUNDLED), wording=model)
    calibration.save(tmp_path / "calibration.json")
    again = Calibration.load(tmp_path / "calibration.json")
    assert again.wording == model
    assert WordingModel.from_dict(model.to_dict()) == model
    assert Calibration.load(BUNDLED).wording is not None  # the bundled file has one


def test_the_long_lists_are_packed_and_lists_still_read() -> None:
    """``idf``, ``term`` and ``weight`` are stored as their values' bytes (exactly the same
    numbers); a calibration written before that, with lists, reads as the same model."""
    model = fit_wording(DOCUMENTS)
    assert model is not None
    stored = model.to_dict()
    assert {k: sorted(stored[k]) for k in ("idf", "term", "weight")} == {
        k: ["base64", "dtype"] for k in ("idf", "term", "weight")
    }
    assert unpacked(stored["weight"]).tolist() == model.weight.tolist()
    as_lists = {**stored, **{k: getattr(model, k).tolist() for k in ("idf", "term", "weight")}}
    assert WordingModel.from_dict(as_lists) == model
    with pytest.raises(ValueError, match="32 bits"):
        packed(np.array([2**40]), "<i4")


@pytest.mark.parametrize(
    "change",
    [
        {"weight": {"dtype": "<f8", "base64": "AAAA"}},  # 3 bytes: not a whole float64
        {"weight": {"dtype": "<f2", "base64": "AAAA"}},  # a type it does not write
        {"idf": {"dtype": "<f8", "base64": "not base64!"}},
        {"ptr": [0, 1]},  # a run per class
        {"term": [10**9]},  # a term that does not exist
        {"idf": []},  # an IDF per term
    ],
)
def test_a_broken_model_is_a_calibration_error(tmp_path: Path, change: dict[str, object]) -> None:
    model = fit_wording(DOCUMENTS)
    assert model is not None
    data = Calibration.load(BUNDLED).to_dict()
    data["wording"] = {**model.to_dict(), **change}
    with pytest.raises(CalibrationError, match="not a calibration file"):
        Calibration.from_dict(data, "broken.json")


def test_fitting_questions_are_read_by_a_model_that_never_saw_their_fold(shipped_snapshot: Snapshot) -> None:
    """`bot.fitting.learnt`: the wording model a fit question's evidence is computed with was fitted
    without the examples of its thread's fold, and the shipped model with all of them."""
    from bot.fitting import _fold, learnt

    base = shipped_snapshot.matcher
    # a word pair only one thread uses (twice, so that it is a term: min_df 2)
    marker = "zqxv wqpl"
    own = [Example("crashloopbackoff", f"{marker} crash {k}", "https://a/1") for k in range(2)]
    others = [Example("pod", f"what is a pod {k}", f"https://b/{k}") for k in range(3)]
    final, per_thread = learnt(base, own + others)
    assert final is not None and marker in final.vocabulary
    fold_model = per_thread("https://a/1").calibration.wording
    assert fold_model is not None and marker not in fold_model.vocabulary
    other_fold = next(t for t in (f"https://c/{k}" for k in range(100)) if _fold(t) != _fold("https://a/1"))
    seen = per_thread(other_fold).calibration.wording
    assert seen is not None and marker in seen.vocabulary
    assert per_thread(other_fold).calibration.examples == tuple(own + others)
    column = FEATURES.index("wording")
    ranked = per_thread(other_fold).evidence(f"{marker} crash")
    assert ranked and all(e.features[column] != UNKNOWN for e in ranked)


OFF_DOCUMENTS = [
    ("terraform state lock error on apply", OFF_TOPIC),
    ("terraform plan wants to recreate the bucket", OFF_TOPIC),
    ("ansible inventory groups for staging and terraform", OFF_TOPIC),
]


def test_the_off_topic_class_is_scored_as_OFF() -> None:
    """The off-topic labelled questions are one more class, which no entry number maps to: its score
    is asked for as `OFF`, and it is the highest for an off-topic question."""
    model = fit_wording(DOCUMENTS + OFF_DOCUMENTS)
    assert model is not None and OFF_TOPIC in model.classes
    scorer = WordingScorer(model, ROWS)
    *entries, off = scorer.scores(words("terraform state lock when I apply"), [0, 1, 2, OFF])
    assert off > max(entries)
    *entries, off = scorer.scores(words(QUESTIONS[0]), [0, 1, 2, OFF])
    assert entries[0] > off
    assert WordingScorer(fit_wording(DOCUMENTS), ROWS).scores(["pod"], [OFF]) == [UNKNOWN]  # none fitted


def test_the_evidence_carries_the_off_topic_class(shipped_snapshot: Snapshot) -> None:
    """`wording_off` and `wording_above_off` are the same for every candidate: the bundled model's
    off-topic score, and the best candidate's wording score minus it."""
    m = shipped_snapshot.matcher
    off_at, above_at, wording_at = (
        FEATURES.index(n) for n in ("wording_off", "wording_above_off", "wording")
    )
    on = [e.features for e in m.evidence("my pod keeps restarting with CrashLoopBackOff")]
    away = [e.features for e in m.evidence("terraform state lock error when running plan in the pipeline")]
    for rows in (on, away):
        assert len({r[off_at] for r in rows}) == 1 and len({r[above_at] for r in rows}) == 1
        assert rows[0][above_at] == pytest.approx(max(r[wording_at] for r in rows) - rows[0][off_at])
    assert on[0][above_at] > 0.0 > away[0][above_at]


def test_off_topic_questions_train_the_fold_models_too(shipped_snapshot: Snapshot) -> None:
    """`bot.fitting.learnt` with off-topic questions: the shipped model has the class, a fold's model
    lacks a term only that fold's off-topic questions use, and the examples stay on topic."""
    from bot.fitting import _fold, learnt

    base = shipped_snapshot.matcher
    marker = "qzxj vplw"
    off = [Example(OFF_TOPIC, f"{marker} terraform {k}", "https://o/1") for k in range(2)]
    on = [Example("pod", f"what is a pod {k}", f"https://b/{k}") for k in range(3)]
    final, per_thread = learnt(base, on, off)
    assert final is not None and OFF_TOPIC in final.classes and marker in final.vocabulary
    fold_model = per_thread("https://o/1").calibration.wording
    assert fold_model is not None and marker not in fold_model.vocabulary
    other = next(t for t in (f"https://c/{k}" for k in range(100)) if _fold(t) != _fold("https://o/1"))
    assert per_thread(other).calibration.examples == tuple(on)
