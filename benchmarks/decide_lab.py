"""Experiments on the answer model: variants compared on the FIT sets' out-of-fold predictions
(the same grouped folds and threshold choice as bot/fitting.py) and on the DEV sets.

The variants are in `decide_variants.py`; `decide_lab_columns.py` adds columns to the evidence.

Usage: python benchmarks/decide_lab.py [variant ...]       (default: all; the standard folds + DEV)
       python benchmarks/decide_lab.py --robust variant ...  (five shuffled grouped splits;
                                                             DECIDE_LAB_SEEDS=5-9 for others)
       python benchmarks/decide_lab.py --per-form variant    (separate thresholds for pasted posts)
The questions' evidence is cached in /tmp/decide_lab.pkl: delete it after changing the KB or matcher.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.calibrate import FIT_SETS, oof_figures  # noqa: E402
from benchmarks.decide_variants import VARIANTS, F, Model, Q, Variant  # noqa: E402
from bot.decision import Calibration, Thresholds  # noqa: E402
from bot.evaluate import load_eval_file  # noqa: E402
from bot.evidence import FEATURES, Evidence  # noqa: E402
from bot.fitting import (  # noqa: E402
    Prediction,
    Targets,
    _fit,
    choose_thresholds,
    examples,
    learnt,
    questions,
    unfitted_matcher,
)
from bot.knowledge import load_knowledge  # noqa: E402

warnings.filterwarnings("ignore")
# the fit and dev sets' features, computed once (delete it, or name another, after engine changes)
CACHE = Path(os.environ.get("DECIDE_LAB_CACHE", "/tmp/decide_lab.pkl"))
DEV_SETS = {"real/dev": ROOT / "benchmarks" / "real" / "dev.yaml", "dev": ROOT / "benchmarks" / "dev"}


def inputs_key() -> str:
    """A hash of what the cached evidence depends on: the question sets, the knowledge base, the
    engine's code and its features (a stale cache gave rows of another feature set)."""
    h = hashlib.sha256(repr(FEATURES).encode())
    sets = [*FIT_SETS, *DEV_SETS.values(), ROOT / "knowledge", ROOT / "bot"]
    for top in sets:
        for file in sorted(top.rglob("*")) if top.is_dir() else [top]:
            if file.is_file() and file.suffix in (".yaml", ".py"):
                h.update(str(file.relative_to(ROOT)).encode() + b"\0" + file.read_bytes())
    return h.hexdigest()


def load() -> tuple[list[Q], dict[str, list[Q]]]:
    key = inputs_key()
    if CACHE.exists():
        cached_key, data = pickle.loads(CACHE.read_bytes())
        if cached_key == key:
            return data  # type: ignore[no-any-return]
    kb = load_knowledge(ROOT / "knowledge")
    fit_items = [i for p in FIT_SETS for i in load_eval_file(p)]
    # the fit questions are the examples too, as in bot.fitting.fit (each kept from its own thread)
    base = unfitted_matcher(kb)
    known = examples(base, fit_items)
    wording, per_thread = learnt(base, known, examples(base, fit_items, off_topic=True))
    m = base.with_examples(known, wording)
    fit = questions(base, fit_items, per_thread)
    dev = {k: questions(m, load_eval_file(p)) for k, p in DEV_SETS.items()}
    CACHE.write_bytes(pickle.dumps((key, (fit, dev))))
    return fit, dev


# ---------------------------------------------------------------------------------------------------
def topic_model(data: Sequence[Q]) -> Callable[[np.ndarray], float]:
    from bot.evidence import TOPIC_INDEX

    xs = [tuple(q.features[0][i] for i in TOPIC_INDEX) for q in data if q.features]
    ys = [int(q.item.on_topic) for q in data if q.features]
    gs = [q.group for q in data if q.features]
    model, _c = _fit(xs, ys, gs, 5)
    return lambda row: model.probability([row[i] for i in TOPIC_INDEX])


def predictions(data: Sequence[Q], p: Model, topic: Callable[[np.ndarray], float]) -> list[Prediction]:
    out = []
    for q in data:
        if not q.features:
            out.append(Prediction(q.item, (), (), 0.0))
            continue
        m = np.asarray(q.features, dtype=float)
        ps = p(m)
        ps = tuple(
            float(v) if Calibration.supported(Evidence(e, "", f)) else 0.0
            for v, e, f in zip(ps, q.ids, q.features, strict=True)
        )
        out.append(Prediction(q.item, q.ids, ps, topic(m[0])))
    return out


def figures(oof: Sequence[Prediction], t: Thresholds) -> tuple[float, float, float, float]:
    """Answered correctly, answered wrong, off-topic declined, on-topic declined."""
    f = oof_figures(oof, t)
    return f.right, f.wrong, f.declined, f.declined_on


def dev_figures(data: Sequence[Q], p: Model, topic: Callable[[np.ndarray], float], t: Thresholds) -> str:
    """As `kubebot kb eval` counts them (Calibration.decide: rank by p, exact -> 0.99 and answered,
    unsupported top -> 0, topic of the top candidate)."""
    right = wrong = declined = n_on = n_all = n_off = 0
    for q in data:
        answered, top = False, None
        if q.features:
            m = np.asarray(q.features, dtype=float)
            raw = [max(v, 0.99) if m[i, F["exact"]] >= 1.0 else float(v) for i, v in enumerate(p(m))]
            best = max(range(len(raw)), key=lambda i: (raw[i], -i))
            ev = Evidence(q.ids[best], "", q.features[best])
            pb = raw[best] if Calibration.supported(ev) else 0.0
            top = q.ids[best]
            answered = m[best, F["exact"]] >= 1.0 or pb >= t.alternatives
            p_topic = topic(m[best])
        if q.item.on_topic:
            n_all += 1
            wrong += answered and not q.item.right(top)
            if not q.item.gap:
                n_on += 1
                right += answered and q.item.right(top)
        else:
            n_off += 1
            declined += (not q.features) or (not answered and p_topic < t.topic)
    wrong_rate, declined_rate = wrong / max(n_all, 1), declined / max(n_off, 1)
    return f"{right / n_on:.1%} right / {wrong_rate:.1%} wrong / {declined_rate:.1%} declined"


def run(name: str, variant: Variant, fit: list[Q], dev: dict[str, list[Q]]) -> None:
    from sklearn.model_selection import GroupKFold

    groups = [q.group for q in fit]
    topic_full = topic_model(fit)
    oof: list[Prediction | None] = [None] * len(fit)
    for train, held in GroupKFold(n_splits=5).split(fit, groups=groups):
        tr = [fit[i] for i in train]
        model, topic = variant(tr), topic_model(tr)
        for i, pr in zip(held, predictions([fit[i] for i in held], model, topic), strict=True):
            oof[i] = pr
    preds = [r for r in oof if r is not None]
    t = choose_thresholds(preds, Targets())
    a = figures(preds, t)
    posts = figures([r for r in preds if r.item.source], t)
    chat = figures([r for r in preds if not r.item.source], t)
    full = variant(fit)
    devs = "  ".join(f"{k}: {dev_figures(d, full, topic_full, t)}" for k, d in dev.items())
    print(
        f"{name:28s} t={t.alternatives:.3f}/{t.answer:.3f}/{t.topic:.3f}  "
        f"all {a[0]:.1%}/{a[1]:.1%}/{a[2]:.1%}  posts {posts[0]:.1%}/{posts[1]:.1%}/{posts[2]:.1%}  "
        f"chat {chat[0]:.1%}/{chat[1]:.1%}/{chat[2]:.1%}\n"
        f"{'':28s} DEV {devs}",
        flush=True,
    )


def main() -> None:
    if sys.argv[1:2] == ["--per-form"]:
        per_form(sys.argv[2])
        return
    if sys.argv[1:2] == ["--robust"]:
        lo, _, hi = os.environ.get("DECIDE_LAB_SEEDS", "0-4").partition("-")  # e.g. 5-9
        robust(sys.argv[2:], tuple(range(int(lo), int(hi or lo) + 1)))
        return
    fit, dev = load()
    for name in sys.argv[1:] or list(VARIANTS):
        run(name, VARIANTS[name], fit, dev)


def robust(names: Sequence[str], seeds: Sequence[int] = (0, 1, 2, 3, 4)) -> None:
    """The same comparison over several shuffled grouped splits (less luck in one split)."""
    from sklearn.model_selection import GroupKFold

    fit, _dev = load()
    groups = [q.group for q in fit]
    splits = {
        s: list(GroupKFold(n_splits=5, shuffle=True, random_state=s).split(fit, groups=groups)) for s in seeds
    }
    topics = {s: [topic_model([fit[i] for i in tr]) for tr, _ in splits[s]] for s in seeds}
    for name in names:
        res = []
        for s in seeds:
            oof: list[Prediction | None] = [None] * len(fit)
            for (train, held), topic in zip(splits[s], topics[s], strict=True):
                model = VARIANTS[name]([fit[i] for i in train])
                for i, pr in zip(held, predictions([fit[i] for i in held], model, topic), strict=True):
                    oof[i] = pr
            preds = [r for r in oof if r is not None]
            t = choose_thresholds(preds, Targets())
            res.append(
                (
                    figures(preds, t),
                    figures([r for r in preds if r.item.source], t),
                    figures([r for r in preds if not r.item.source], t),
                )
            )
        cell = lambda k, j, res=res: np.mean([r[k][j] for r in res])  # noqa: E731
        print(
            f"{name:28s} seeds {list(seeds)}: right/wrong/off-topic declined/on-topic declined "
            + "  ".join(
                f"{part} " + "/".join(f"{cell(k, j):.1%}" for j in range(4))
                for k, part in enumerate(("all", "posts", "chat"))
            )
            + "  "
            f"per seed all-right {[f'{r[0][0]:.1%}' for r in res]}",
            flush=True,
        )


def per_form(name: str) -> None:
    """Separate thresholds for pasted posts and one-line questions (by the `pasted` feature)."""
    from sklearn.model_selection import GroupKFold

    fit, _dev = load()
    groups = [q.group for q in fit]
    oof: list[Prediction | None] = [None] * len(fit)
    for train, held in GroupKFold(n_splits=5).split(fit, groups=groups):
        tr = [fit[i] for i in train]
        model, topic = VARIANTS[name](tr), topic_model(tr)
        for i, pr in zip(held, predictions([fit[i] for i in held], model, topic), strict=True):
            oof[i] = pr
    preds = [r for r in oof if r is not None]
    pasted = {
        id(r): bool(q.features and q.features[0][F["pasted"]] >= 1.0) for r, q in zip(preds, fit, strict=True)
    }
    t_all = choose_thresholds(preds, Targets())
    parts = {k: [r for r in preds if pasted[id(r)] == k] for k in (True, False)}
    ts = {k: choose_thresholds(v, Targets()) for k, v in parts.items()}
    print(
        f"{name}: one threshold {t_all}; pasted n={len(parts[True])} {ts[True]}; "
        f"one-line n={len(parts[False])} {ts[False]}"
    )
    for label, chooser in (("one", lambda r: t_all), ("per-form", lambda r: ts[pasted[id(r)]])):
        sub = {
            "all": preds,
            "posts": [r for r in preds if r.item.source],
            "chat": [r for r in preds if not r.item.source],
        }
        out = []
        for k, rs in sub.items():
            on = [r for r in rs if r.item.on_topic and not r.item.gap]
            on_all = [r for r in rs if r.item.on_topic]
            off = [r for r in rs if not r.item.on_topic]
            ans = lambda r, c=chooser: r.top[1] >= c(r).alternatives  # noqa: E731
            right = sum(ans(r) and r.item.right(r.top[0]) for r in on) / len(on)
            wrong = sum(ans(r) and not r.item.right(r.top[0]) for r in on_all) / len(on_all)
            dec = sum(not ans(r) and r.topic < chooser(r).topic for r in off) / len(off)
            out.append(f"{k} {right:.1%}/{wrong:.1%}/{dec:.1%}")
        print(f"  {label:9s}", "  ".join(out))


if __name__ == "__main__":
    from threadpoolctl import threadpool_limits

    # one thread: on a thousand questions, OpenMP's threads cost more than they save (a robust run
    # takes ~30 s instead of ~110 s on two cores, and two runs at once no longer oversubscribe them)
    with threadpool_limits(1):
        main()
