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
from bot.matching import Matcher, _topic_features  # noqa: E402

CALIB = ROOT / "benchmarks" / "calib"


def samples(
    matcher: Matcher,
) -> tuple[list[tuple[float, ...]], list[int], list[tuple[float, ...]], list[int]]:
    """Answer model: the top three candidates of every question, labelled 1 when right.
    On-topic model: the top candidate of every question, labelled 1 when the question is on topic."""
    xs, ys, topic_xs, topic_ys = [], [], [], []
    for item in load_eval_file(CALIB):
        ranked = matcher.features(item.question, limit=3)
        for position, (entry_id, feats) in enumerate(ranked):
            xs.append(feats)
            ys.append(int(item.expect is not None and entry_id == item.expect))
            if position == 0:
                topic_xs.append(_topic_features(feats))
                topic_ys.append(int(item.expect is not None))
    return xs, ys, topic_xs, topic_ys


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


def probability(weights: list[float], x: tuple[float, ...]) -> float:
    z = weights[0] + sum(w * v for w, v in zip(weights[1:], x, strict=True))
    return 1 / (1 + math.exp(-z))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--target-declined", type=float, default=0.97)
    args = parser.parse_args()
    kb = load_knowledge(ROOT / "knowledge")
    matcher = Matcher(kb.entries.values(), kb.synonyms, domain=kb.domain)
    xs, ys, topic_xs, topic_ys = samples(matcher)
    answer = fit(xs, ys)
    topic = fit(topic_xs, topic_ys)
    print("calibration = (" + ", ".join(f"{w:.3f}" for w in answer) + ")")
    print("topic_calibration = (" + ", ".join(f"{w:.3f}" for w in topic) + ")")
    off = sorted(probability(topic, x) for x, y in zip(topic_xs, topic_ys, strict=True) if not y)
    keep = off[min(len(off) - 1, int(len(off) * args.target_declined))]
    print(
        f"topic_threshold = {keep:.3f} declines {args.target_declined:.0%} of the off-topic calibration set"
    )


if __name__ == "__main__":
    main()
