"""Matcher speed, memory and accuracy against naive baselines (`make bench`).

For the shipped knowledge base and synthetic ones of 10k and 100k entries (the shipped entries
replicated with perturbed questions and fresh vocabulary), on one core, prints:
  - per-question latency (median, p99) of kubebot's matcher over the held-out questions,
  - knowledge-base load + index time and peak memory (each size in its own process),
  - the same questions through naive rapidfuzz (WRatio + default_process over every alternate),
    difflib.get_close_matches and BM25 (rank-bm25, one document per entry): latency and top-1.
Targets (issue 2): <= 0.3 ms/question shipped, <= 1 ms at 10k, <= 10 ms at 100k; >= 20x faster
than naive rapidfuzz at 10k; accuracy above BM25.

Usage: python benchmarks/bench_matching.py [--sizes 0,10000,100000] [--questions N]
"""

from __future__ import annotations

import argparse
import difflib
import json
import multiprocessing as mp
import os
import random
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.evaluate import EvalItem, load_eval_file  # noqa: E402
from bot.knowledge import load_knowledge  # noqa: E402
from bot.matching import Matcher  # noqa: E402
from bot.models import Entry  # noqa: E402
from bot.text import Normalizer  # noqa: E402

EVAL_DIR = ROOT / "tests" / "eval"
SYLLABLES = ["ka", "ro", "mi", "zu", "te", "la", "po", "ne", "vi", "sha", "dor", "qu", "ex", "bin", "tal"]


def pin_one_core() -> None:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def synthetic_entries(base: Sequence[Entry], size: int, seed: int = 7) -> list[Entry]:
    """`size` entries: the shipped ones first, then perturbed copies with fresh words mixed in."""
    rng = random.Random(seed)
    out = list(base)
    copy = 0
    while len(out) < size:
        copy += 1
        for entry in base:
            if len(out) >= size:
                break
            word = "".join(rng.choice(SYLLABLES) for _ in range(3))
            questions = []
            for q in entry.questions:
                words = q.split()
                if len(words) > 2 and rng.random() < 0.5:
                    words.pop(rng.randrange(len(words)))
                words.insert(rng.randrange(len(words) + 1), word)
                questions.append(" ".join(words))
            out.append(
                replace(
                    entry,
                    id=f"{entry.id}-{copy}",
                    title=f"{entry.title} ({word})",
                    questions=tuple(questions),
                )
            )
    return out


def timed(fn: Callable[[str], object], questions: Sequence[str]) -> tuple[float, float]:
    samples = []
    for q in questions:
        start = time.perf_counter()
        fn(q)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def top1(predict: Callable[[str], str | None], items: Sequence[EvalItem]) -> float:
    on = [i for i in items if i.expect]
    return sum(1 for i in on if predict(i.question) == i.expect) / len(on)


def measure(size: int, n_questions: int, baselines: bool, queue: mp.Queue) -> None:  # type: ignore[type-arg]
    pin_one_core()
    kb = load_knowledge(ROOT / "knowledge")
    items = load_eval_file(EVAL_DIR)
    questions = [i.question for i in items][:n_questions]
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    kb = load_knowledge(ROOT / "knowledge")
    entries = list(kb.entries.values()) if size == 0 else synthetic_entries(list(kb.entries.values()), size)
    matcher = Matcher(entries, kb.synonyms, domain=kb.domain)
    build_s = time.perf_counter() - start
    peak_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    for q in questions[:20]:  # warm caches the way a running bot has them
        matcher.match(q)
    row: dict[str, object] = {"size": len(entries), "build_s": build_s, "peak_mb": peak_mb}
    row["ours"] = timed(matcher.match, questions)

    def ours(q: str) -> str | None:  # retrieval top-1, like the baselines (none of them declines)
        ranked = matcher.rank(q, 1)
        return ranked[0].entry_id if ranked else None

    if size == 0:
        row["ours_top1"] = top1(ours, items)
    if baselines:
        from rapidfuzz import fuzz, process, utils

        alts = [(e.id, q) for e in entries for q in (e.title, *e.questions)]
        texts = [t for _, t in alts]

        def naive(q: str) -> str | None:
            found = process.extractOne(q, texts, scorer=fuzz.WRatio, processor=utils.default_process)
            return alts[found[2]][0] if found else None

        few = questions[: max(20, n_questions // (10 if size >= 100_000 else 1))]
        row["naive"] = timed(naive, few)
        if size <= 10_000:
            lowered = [t.lower() for t in texts]
            index = {t: alts[i][0] for i, t in enumerate(lowered)}

            def close(q: str) -> str | None:
                found = difflib.get_close_matches(q.lower(), lowered, n=1, cutoff=0.0)
                return index[found[0]] if found else None

            row["difflib"] = timed(close, few[: 40 if size == 0 else 10])  # ~13 s a question at 10k
        from rank_bm25 import BM25Okapi

        norm = Normalizer(kb.synonyms)
        docs = [[t for q in (e.title, *e.questions) for t in norm.tokens(q)] for e in entries]
        bm25 = BM25Okapi(docs)

        def bm(q: str) -> str | None:
            tokens = list(norm.tokens(q))
            if not tokens:
                return None
            scores = bm25.get_scores(tokens)
            best = max(range(len(scores)), key=scores.__getitem__)
            return entries[best].id if scores[best] > 0 else None

        row["bm25"] = timed(bm, few)
        if size == 0:
            row["naive_top1"] = top1(naive, items)
            row["difflib_top1"] = top1(close, items)
            row["bm25_top1"] = top1(bm, items)
    queue.put(json.dumps(row))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="0,10000,100000", help="0 means the shipped knowledge base")
    parser.add_argument("--questions", type=int, default=400, help="held-out questions timed per size")
    parser.add_argument("--no-baselines", action="store_true")
    args = parser.parse_args()
    ctx = mp.get_context("spawn")
    rows = []
    for size in (int(s) for s in args.sizes.split(",")):
        queue: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
        proc = ctx.Process(target=measure, args=(size, args.questions, not args.no_baselines, queue))
        proc.start()
        proc.join()
        if proc.exitcode != 0 or queue.empty():
            raise SystemExit(f"measuring size {size} failed (exit code {proc.exitcode})")
        rows.append(json.loads(queue.get()))
    print(
        f"{'entries':>8} {'load+index':>11} {'peak MB':>8} {'ours p50/p99 ms':>17} {'naive rf p50':>13} "
        f"{'difflib p50':>12} {'bm25 p50':>9} {'speed-up vs naive':>18}"
    )
    for r in rows:
        ours, naive = r["ours"], r.get("naive")
        cells = [
            f"{r['size']:>8}",
            f"{r['build_s']:>10.2f}s",
            f"{r['peak_mb']:>8.0f}",
            f"{ours[0]:>8.3f}/{ours[1]:<8.3f}",
            f"{naive[0]:>13.2f}" if naive else f"{'-':>13}",
            f"{r['difflib'][0]:>12.2f}" if "difflib" in r else f"{'-':>12}",
            f"{r['bm25'][0]:>9.2f}" if "bm25" in r else f"{'-':>9}",
            f"{naive[0] / ours[0]:>17.0f}x" if naive else f"{'-':>18}",
        ]
        print(" ".join(cells))
    shipped = next((r for r in rows if "ours_top1" in r), None)
    if shipped:
        print(
            "\ntop-1 on the held-out questions (shipped KB): "
            + ", ".join(
                f"{name} {shipped[key]:.1%}"
                for name, key in (
                    ("kubebot", "ours_top1"),
                    ("naive rapidfuzz", "naive_top1"),
                    ("difflib", "difflib_top1"),
                    ("bm25", "bm25_top1"),
                )
                if key in shipped
            )
        )


if __name__ == "__main__":
    main()
