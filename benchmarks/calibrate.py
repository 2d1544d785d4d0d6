"""Fit the matcher's confidence calibration on the calibration questions (`benchmarks/calib/`).

The matcher ranks entries by a lexical score; this fits a logistic model that turns that score
and the evidence behind it into the probability that the top candidate is what the asker wants
(label 1: right entry; 0: wrong entry or off-topic). Prints the coefficients for
`MatchSettings.calibration` and the band thresholds that keep off-topic declines at the target.
Never fit on tests/eval: that is the held-out set.

Usage: python benchmarks/calibrate.py [--target-declined 0.97]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.evaluate import load_eval_file  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402
from bot.matching import Matcher  # noqa: E402

DEV = ROOT / "benchmarks" / "calib"


def samples(matcher: Matcher) -> tuple[list[tuple[float, ...]], list[int], list[bool]]:
    xs, ys, off = [], [], []
    for item in load_eval_file(DEV):
        ranked = matcher.features(item.question, limit=3)
        for position, (entry_id, feats) in enumerate(ranked):
            xs.append(feats)
            ys.append(int(item.expect is not None and entry_id == item.expect))
            off.append(item.expect is None and position == 0)
    return xs, ys, off


def fit(xs: list[tuple[float, ...]], ys: list[int], l2: float = 0.01, steps: int = 4000) -> list[float]:
    n, d = len(xs), len(xs[0])
    means = [sum(x[j] for x in xs) / n for j in range(d)]
    sds = [max(1e-6, math.sqrt(sum((x[j] - means[j]) ** 2 for x in xs) / n)) for j in range(d)]
    zs = [[(x[j] - means[j]) / sds[j] for j in range(d)] for x in xs]
    w = [0.0] * (d + 1)
    rate = 0.5
    for _ in range(steps):
        grad = [0.0] * (d + 1)
        for z, y in zip(zs, ys, strict=True):
            p = 1 / (1 + math.exp(-(w[0] + sum(wj * zj for wj, zj in zip(w[1:], z, strict=True)))))
            grad[0] += p - y
            for j in range(d):
                grad[j + 1] += (p - y) * z[j]
        w[0] -= rate * grad[0] / n
        for j in range(d):
            w[j + 1] -= rate * (grad[j + 1] / n + l2 * w[j + 1])
    # back to the raw feature scale
    raw = [w[0] - sum(w[j + 1] * means[j] / sds[j] for j in range(d))]
    raw += [w[j + 1] / sds[j] for j in range(d)]
    return raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target-declined", type=float, default=0.97)
    args = parser.parse_args()
    kb = load_knowledge(ROOT / "knowledge")
    matcher = Matcher(kb.entries.values(), kb.synonyms, domain=kb.domain)
    xs, ys, off = samples(matcher)
    weights = fit(xs, ys)
    print("calibration = (" + ", ".join(f"{w:.3f}" for w in weights) + ")")

    def prob(x: tuple[float, ...]) -> float:
        z = weights[0] + sum(w * v for w, v in zip(weights[1:], x, strict=True))
        return 1 / (1 + math.exp(-z))

    off_scores = sorted(prob(x) for x, o in zip(xs, off, strict=True) if o)
    keep = off_scores[min(len(off_scores) - 1, int(len(off_scores) * args.target_declined))]
    print(f"suggest_threshold >= {keep:.3f} declines {args.target_declined:.0%} of dev off-topic questions")


if __name__ == "__main__":
    main()
