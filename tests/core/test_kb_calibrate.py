"""`kubebot kb calibrate`: a team's own knowledge base gets a decision fitted on its own questions."""

from __future__ import annotations

import io
import json
import logging
import shutil
from pathlib import Path

import pytest
import yaml

from bot.cli import main
from bot.decision import FILE_NAME, Calibration
from bot.evaluate import evaluate, load_eval_file
from bot.knowledge import load_knowledge
from bot.service import Snapshot
from tests.conftest import ROOT, SHIPPED_KB


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


def test_kb_calibrate_writes_a_calibration_the_kb_then_uses(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(SHIPPED_KB, kb)
    questions = tmp_path / "questions.yaml"
    shutil.copy(ROOT / "benchmarks" / "calib" / "on_topic.yaml", tmp_path / "on.yaml")
    items = yaml.safe_load((ROOT / "benchmarks" / "calib" / "on_topic.yaml").read_text())
    items += yaml.safe_load((ROOT / "benchmarks" / "calib" / "off_topic.yaml").read_text())
    questions.write_text(yaml.safe_dump(items), encoding="utf-8")
    code, out = run("kb", "calibrate", "--kb", str(kb), str(questions))
    assert code == 0, out
    assert f"wrote {kb / FILE_NAME}" in out
    written = Calibration.load(kb / FILE_NAME)
    assert Snapshot.build(load_knowledge(kb)).matcher.calibration == written  # picked up on load
    assert 0.0 < written.thresholds.alternatives <= written.thresholds.answer <= 1.0


def test_kb_calibrate_refuses_too_few_or_unknown_labels(tmp_path: Path) -> None:
    few = tmp_path / "few.yaml"
    few.write_text("- {q: what is a pod, expect: pod}\n- {q: banana bread, expect: null}\n")
    code, _ = run("kb", "calibrate", "--kb", str(SHIPPED_KB), "--out", str(tmp_path / "c.json"), str(few))
    assert code == 2 and not (tmp_path / "c.json").exists()
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("- {q: what is a pod, expect: no-such-entry}\n")
    assert run("kb", "calibrate", "--kb", str(SHIPPED_KB), str(unknown))[0] == 2


def test_a_stale_calibration_file_is_a_clear_error(tmp_path: Path) -> None:
    kb = tmp_path / "kb"
    shutil.copytree(SHIPPED_KB, kb)
    data = json.loads((ROOT / "bot" / "calibration.json").read_text())
    data["features"] = data["features"][:-1]
    (kb / FILE_NAME).write_text(json.dumps(data))
    code, _ = run("ask", "--kb", str(kb), "what is a pod")
    assert code == 2


def test_half_the_entries_removed_gives_no_confident_wrong_answers(tmp_path: Path) -> None:
    """A team's KB with half the bundled entries, after `kb calibrate` on its own fit questions:
    questions whose entry is gone get no confident (plain) answer (issue 11)."""
    from benchmarks.bench_half_kb import FIT, halve, relabel
    from bot.fitting import fit
    from bot.models import Band

    kept = halve(SHIPPED_KB, tmp_path / "kb")
    half = Snapshot.build(load_knowledge(tmp_path / "kb"))
    fit_items = relabel([i for p in FIT for i in load_eval_file(p)], kept)
    fit(half.matcher, fit_items).calibration.save(tmp_path / "kb" / FILE_NAME)
    refitted = Snapshot.build(load_knowledge(tmp_path / "kb"))
    items = relabel(load_eval_file(ROOT / "benchmarks" / "real" / "dev.yaml"), kept)
    report = evaluate(refitted.matcher, items)
    removed = [o for o in report.gaps if o.item.expect == "gap:removed"]
    assert len(removed) >= 40
    assert sum(o.band is Band.ANSWERED for o in removed) / len(removed) <= 0.02
    assert sum(o.band.answers for o in removed) / len(removed) <= 0.2
    assert report.declined >= 0.9


def test_few_questions_get_a_logistic_answer_model_and_many_get_trees(tmp_path: Path) -> None:
    from bot.decision import LogisticModel, TreeModel
    from bot.fitting import TREES_MIN_QUESTIONS

    items = yaml.safe_load((ROOT / "benchmarks" / "calib" / "on_topic.yaml").read_text())[:150]
    items += yaml.safe_load((ROOT / "benchmarks" / "calib" / "off_topic.yaml").read_text())[:50]
    assert len(items) < TREES_MIN_QUESTIONS
    questions = tmp_path / "questions.yaml"
    questions.write_text(yaml.safe_dump(items), encoding="utf-8")
    code, out = run(
        "kb", "calibrate", "--kb", str(SHIPPED_KB), "--out", str(tmp_path / "c.json"), str(questions)
    )
    assert code == 0, out
    assert isinstance(Calibration.load(tmp_path / "c.json").answer, LogisticModel)
    assert isinstance(Calibration.load(ROOT / "bot" / "calibration.json").answer, TreeModel)


def test_a_knowledge_base_without_its_own_calibration_is_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The bundled calibration over other entries answers too boldly when an entry is missing: a
    team's knowledge base without calibration.json says so in the log (once per load), with the
    command that fixes it; the bundled one and a calibrated one do not."""
    from tests.conftest import FIXTURE_KB

    team = tmp_path / "team"
    shutil.copytree(FIXTURE_KB, team)
    (team / FILE_NAME).unlink(missing_ok=True)
    with caplog.at_level(logging.WARNING, logger="kubebot.service"):
        Snapshot.build(load_knowledge(team))
    warned = [r.getMessage() for r in caplog.records if "calibration_not_fitted" in r.getMessage()]
    assert len(warned) == 1 and f"kb calibrate QUESTIONS.yaml --kb {team}" in warned[0]
    caplog.clear()
    Calibration.load(ROOT / "bot" / "calibration.json").save(team / FILE_NAME)
    with caplog.at_level(logging.WARNING, logger="kubebot.service"):
        Snapshot.build(load_knowledge(team))
        Snapshot.build(load_knowledge(SHIPPED_KB))
    assert not [r for r in caplog.records if "calibration_not_fitted" in r.getMessage()]


def test_thresholds_are_chosen_on_every_repeated_split_together() -> None:
    """Each question is predicted once per repeated grouped split, by models that never saw its
    thread, and the thresholds come from all those predictions at once."""
    from bot.fitting import Targets, choose_thresholds, fit, unfitted_matcher

    items = load_eval_file(ROOT / "benchmarks" / "calib" / "on_topic.yaml")[:120]
    items += load_eval_file(ROOT / "benchmarks" / "calib" / "off_topic.yaml")[:40]
    targets = Targets(repeats=2)
    result = fit(unfitted_matcher(load_knowledge(SHIPPED_KB)), items, targets)
    assert result.repeats == 2 and len(result.oof) == 2 * len(items)
    first, second = result.oof[: len(items)], result.oof[len(items) :]
    assert [r.item for r in first] == [r.item for r in second] == items
    assert [r.p for r in first] != [r.p for r in second]  # other folds, other models
    assert result.calibration.thresholds == choose_thresholds(result.oof, targets)


def test_chat_rows_weigh_more_in_the_trees_and_a_one_kind_set_is_unweighted() -> None:
    """`Targets.chat_weight`: rows of questions without a source thread weigh more in the answer
    model's trees; when every row has the same weight (a team's eval file of one kind) the fit is
    the unweighted one."""
    import random

    from bot.evidence import FEATURES
    from bot.fitting import _fit_trees

    rng = random.Random(3)
    xs = [tuple(rng.random() for _ in FEATURES) for _ in range(400)]
    ys = [int(x[0] + rng.random() * 0.5 > 0.8) for x in xs]
    plain = _fit_trees(xs, ys, [1] * len(xs))
    assert _fit_trees(xs, ys, [2] * len(xs)) == plain
    mixed = _fit_trees(xs, ys, [2 if i % 3 == 0 else 1 for i in range(len(xs))])
    assert mixed != plain


def test_the_weighted_fit_on_bin_numbers_is_scikit_learns_weighted_fit() -> None:
    """`bot.fit_bins`: fitting the trees on bin numbers gives the trees scikit-learn fits on the
    raw features with the same weights (its slow path), splits at the same raw edges."""
    import random

    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    from bot.evidence import FEATURES
    from bot.fit_bins import bin_features, to_bins
    from bot.fitting import MONOTONE, TREE_PARAMS, _fit_trees, export_trees

    rng = random.Random(5)
    # many-valued features (binned), few-valued ones (left as they are) and ties
    xs = [
        tuple(
            round(rng.random(), 2) if i % 3 == 1 else rng.random() ** (1 + i % 4)
            for i in range(len(FEATURES))
        )
        for _ in range(1500)
    ]
    ys = [int(x[0] + x[1] * 0.3 + rng.random() * 0.6 > 0.9) for x in xs]
    ws = [2.0 if i % 4 == 0 else 1.0 for i in range(len(xs))]
    monotone = [int(f in MONOTONE) for f in FEATURES]
    reference = HistGradientBoostingClassifier(monotonic_cst=monotone, **TREE_PARAMS)
    reference.fit(np.asarray(xs), np.asarray(ys), sample_weight=np.asarray(ws))
    fitted = _fit_trees(xs, ys, ws)
    assert fitted == export_trees(reference)
    # and a classifier fitted on the bin numbers predicts new rows as scikit-learn's does
    binned, bins = bin_features(np.asarray(xs), np.asarray(ws))
    on_bins = HistGradientBoostingClassifier(monotonic_cst=monotone, **TREE_PARAMS)
    on_bins.fit(binned, np.asarray(ys), sample_weight=np.asarray(ws))
    new = np.asarray([[rng.random() * 1.2 - 0.1 for _ in FEATURES] for _ in range(500)])
    assert np.array_equal(on_bins.predict_proba(to_bins(bins, new)), reference.predict_proba(new))
    assert fitted != _fit_trees(xs, ys, [1.0] * len(xs))


def test_examples_of_entries_the_knowledge_base_no_longer_has_are_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An entry renamed or removed after `kb calibrate` leaves the calibration's examples of it
    pointing nowhere: they are left out, and the load says so with the command that refits."""
    from dataclasses import replace

    from bot.models import Example
    from tests.conftest import FIXTURE_KB

    team = tmp_path / "team"
    shutil.copytree(FIXTURE_KB, team)
    entries = sorted(load_knowledge(team).entries)
    calibration = Calibration.load(ROOT / "bot" / "calibration.json")
    kept = (Example(entries[0], "what is it"), Example(entries[1], "and this one"))
    replace(calibration, examples=kept).save(team / FILE_NAME)
    with caplog.at_level(logging.WARNING, logger="kubebot.service"):
        Snapshot.build(load_knowledge(team))
    assert not [r for r in caplog.records if "calibration_examples_stale" in r.getMessage()]
    gone = (*kept, Example("renamed-entry", "how do I"), Example("renamed-entry", "why does"))
    replace(calibration, examples=gone).save(team / FILE_NAME)
    with caplog.at_level(logging.WARNING, logger="kubebot.service"):
        snapshot = Snapshot.build(load_knowledge(team))
    warned = [r.getMessage() for r in caplog.records if "calibration_examples_stale" in r.getMessage()]
    assert len(warned) == 1 and "entries=1 first=renamed-entry" in warned[0]
    assert f"kb calibrate QUESTIONS.yaml --kb {team}" in warned[0]
    assert len(snapshot.matcher._examples) == 2  # the two of entries it has
