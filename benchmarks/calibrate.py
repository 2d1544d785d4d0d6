"""Fit the decision's models for the bundled knowledge base and write `bot/calibration.json`.

Fitted on the calibration sets only: `benchmarks/calib/` (short chat-style questions) and
`benchmarks/real/fit.yaml` (real posts). Never on `benchmarks/dev`, `benchmarks/real/dev.yaml`
(where knowledge-base authors fix misses), `tests/eval` or `benchmarks/real/test.yaml` (held out).
Thresholds are chosen on out-of-fold predictions (see `bot/fitting.py`); the cross-validated
figures and a reliability table are printed.

Usage: python benchmarks/calibrate.py [--check]   (--check: exit 1 when bot/calibration.json differs)
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.decision import BUNDLED, Calibration, Thresholds  # noqa: E402
from bot.evaluate import EvalItem, load_eval_file  # noqa: E402
from bot.fitting import FitResult, Prediction, fit, unfitted_matcher  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402

FIT_SETS = (ROOT / "benchmarks" / "calib", ROOT / "benchmarks" / "real" / "fit.yaml")


def fit_items() -> list[EvalItem]:
    return [item for path in FIT_SETS if path.exists() for item in load_eval_file(path)]


def bundled_fit() -> FitResult:
    kb = load_knowledge(ROOT / "knowledge")
    matcher = unfitted_matcher(kb)
    return fit(matcher, fit_items())


@dataclass(frozen=True, slots=True)
class OofFigures:
    right: float  # share of on-topic questions with an entry answered with it
    wrong: float  # share of on-topic questions answered with a wrong entry
    declined: float  # share of off-topic questions neither answered nor suggested
    declined_on: float  # share of on-topic questions with an entry declined
    n_on: int


def oof_figures(oof: Sequence[Prediction], t: Thresholds) -> OofFigures:
    """The answered/declined shares of out-of-fold predictions under thresholds ``t``."""
    on = [r for r in oof if r.item.on_topic and not r.item.gap]
    on_all = [r for r in oof if r.item.on_topic]
    off = [r for r in oof if not r.item.on_topic]

    def answered(r: Prediction) -> bool:
        return r.top[1] >= t.alternatives

    right = sum(answered(r) and r.item.right(r.top[0]) for r in on)
    wrong = sum(answered(r) and not r.item.right(r.top[0]) for r in on_all)
    declined = sum(r.topic < t.topic and not answered(r) for r in off)
    declined_on = sum(r.topic < t.topic and not answered(r) for r in on)
    return OofFigures(
        right / max(len(on), 1),
        wrong / max(len(on_all), 1),
        declined / max(len(off), 1),
        declined_on / max(len(on), 1),
        len(on),
    )


def _figures(oof: Sequence[Prediction], t: Thresholds, repeats: int = 1) -> str:
    f = oof_figures(oof, t)
    return (
        f"answered correctly {f.right:.1%} of {f.n_on // repeats}, answered wrong {f.wrong:.1%}, "
        f"off-topic declined {f.declined:.1%}, on-topic declined {f.declined_on:.1%}"
    )


def cv_summary(oof: tuple[Prediction, ...], calibration: Calibration, repeats: int = 1) -> str:
    """Out-of-fold figures (``oof``: each question once per repeated split, so shares are their
    average over the splits) and the reliability table."""
    t = calibration.thresholds
    lines = [
        f"out-of-fold, all:          {_figures(oof, t, repeats)}",
        f"  real posts (real/fit):   {_figures([r for r in oof if r.item.source], t, repeats)}",
        f"  chat questions (calib/): {_figures([r for r in oof if not r.item.source], t, repeats)}",
        f"reliability of the top candidate (out-of-fold, {repeats} splits): bin  predicted -> observed  (n)",
    ]
    bins: dict[int, list[tuple[float, bool]]] = {}
    for r in oof:
        top, p = r.top
        bins.setdefault(min(int(p * 10), 9), []).append((p, r.item.right(top)))
    ece = 0.0
    for b in sorted(bins):
        rows = bins[b]
        predicted = sum(p for p, _ in rows) / len(rows)
        observed = sum(ok for _, ok in rows) / len(rows)
        ece += len(rows) * abs(predicted - observed) / len(oof)
        n = len(rows) // repeats
        lines.append(f"  {b / 10:.1f}-{(b + 1) / 10:.1f}  {predicted:.2f} -> {observed:.2f}  ({n})")
    lines.append(f"expected calibration error (out-of-fold): {ece:.3f}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="only compare with bot/calibration.json")
    args = parser.parse_args()
    result = bundled_fit()
    fitted = result.calibration.to_dict()
    if args.check:
        shipped = json.loads(BUNDLED.read_text(encoding="utf-8"))
        if shipped != fitted:
            print("bot/calibration.json is not what benchmarks/calibrate.py fits; rerun it", file=sys.stderr)
            return 1
        return 0
    Calibration.from_dict(fitted).save(BUNDLED)
    t = result.calibration.thresholds
    print(f"fitted on {result.calibration.meta['questions']} questions ({result.rows} candidate rows)")
    print(f"thresholds: answer {t.answer}, with alternatives {t.alternatives}, on topic {t.topic}")
    print(cv_summary(result.oof, result.calibration, result.repeats))
    print(f"wrote {BUNDLED.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
