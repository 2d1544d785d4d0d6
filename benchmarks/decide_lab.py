"""Experiments on the answer model: variants compared on the FIT sets' out-of-fold predictions
(the same grouped folds and threshold choice as bot/fitting.py) and on the DEV sets.

Usage: python benchmarks/decide_lab.py [variant ...]       (default: all; the standard folds + DEV)
       python benchmarks/decide_lab.py --robust variant ...  (five shuffled grouped splits)
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
from bot.decision import FEATURES, Calibration, Evidence, Thresholds  # noqa: E402
from bot.evaluate import load_eval_file  # noqa: E402
from bot.fitting import (  # noqa: E402
    Prediction,
    Targets,
    _fit,
    _Question,
    choose_thresholds,
    questions,
    unfitted_matcher,
)
from bot.knowledge import load_knowledge  # noqa: E402

warnings.filterwarnings("ignore")
# the fit and dev sets' features, computed once (delete it, or name another, after engine changes)
CACHE = Path(os.environ.get("DECIDE_LAB_CACHE", "/tmp/decide_lab.pkl"))
DEV_SETS = {"real/dev": ROOT / "benchmarks" / "real" / "dev.yaml", "dev": ROOT / "benchmarks" / "dev"}
F = {name: i for i, name in enumerate(FEATURES)}
Q = _Question


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
    m = unfitted_matcher(kb)
    fit = questions(m, [i for p in FIT_SETS for i in load_eval_file(p)])
    dev = {k: questions(m, load_eval_file(p)) for k, p in DEV_SETS.items()}
    CACHE.write_bytes(pickle.dumps((key, (fit, dev))))
    return fit, dev


# A variant: fitted on questions, returns a function from a question's candidate rows to p per row.
Model = Callable[[np.ndarray], np.ndarray]
Variant = Callable[[Sequence[Q]], Model]


def rows(data: Sequence[Q]) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    x = np.array([f for q in data for f in q.features], dtype=float)
    y = np.array([int(r) for q in data for r in q.right])
    g = [q.group for q in data for _ in q.features]
    qid = np.array([i for i, q in enumerate(data) for _ in q.features])
    return x, y, g, qid


def logistic(data: Sequence[Q]) -> Model:
    x, y, g, _ = rows(data)
    model, _c = _fit([tuple(r) for r in x], list(y), g, 5)
    w, b = np.array(model.coef), model.intercept
    return lambda m: 1 / (1 + np.exp(-np.clip(m @ w + b, -30, 30)))


def hgb(
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
    mono_names: Sequence[str] = ("score", "covered", "semantic", "best_alt"),
    **params: object,
) -> Variant:
    def variant(data: Sequence[Q]) -> Model:
        from sklearn.ensemble import HistGradientBoostingClassifier

        tf = transform or (lambda a: a)
        x = np.vstack([tf(np.asarray(q.features, dtype=float)) for q in data if q.features])
        _, y, _, _ = rows(data)
        mono = [0] * x.shape[1]
        for name in mono_names:
            mono[F[name]] = 1
        p = dict(
            max_depth=3,
            max_iter=100,
            learning_rate=0.05,
            l2_regularization=1.0,
            min_samples_leaf=40,
            monotonic_cst=mono,
            early_stopping=False,
            random_state=0,
        )
        p.update(params)
        clf = HistGradientBoostingClassifier(**p).fit(x, y)  # type: ignore[arg-type]
        return lambda m: clf.predict_proba(tf(m))[:, 1]

    return variant


def expand_products(names: Sequence[str]) -> Callable[[np.ndarray], np.ndarray]:
    idx = [F[n] for n in names]
    pairs = [(a, b) for i, a in enumerate(idx) for b in idx[i + 1 :]]

    def f(x: np.ndarray) -> np.ndarray:
        return np.hstack([x] + [x[:, [a]] * x[:, [b]] for a, b in pairs])

    return f


def with_pasted(x: np.ndarray) -> np.ndarray:
    return np.hstack([x, x * x[:, [F["pasted"]]]])


def rank_features(x: np.ndarray) -> np.ndarray:
    """Per question: candidate rank /5, the top row's score/semantic, gap to the best semantic by rank."""
    n = len(x)
    rank = np.arange(n, dtype=float)[:, None] / 5
    best_score = np.full((n, 1), x[:, F["score"]].max())
    rel = x[:, [F["score"]]] / np.maximum(best_score, 1e-9)
    best_alt_gap = x[:, [F["best_alt"]]] - x[:, F["best_alt"]].max()
    cov_gap = x[:, [F["covered"]]] - x[:, F["covered"]].max()
    return np.hstack([x, rank, rel, best_alt_gap, cov_gap])


def logistic_on(transform: Callable[[np.ndarray], np.ndarray], per_question: bool = False) -> Variant:
    """Logistic regression (bot.fitting._fit) on transformed features."""

    def variant(data: Sequence[Q]) -> Model:
        if per_question:
            x = np.vstack([transform(np.asarray(q.features, dtype=float)) for q in data if q.features])
        else:
            x = transform(rows(data)[0])
        _, y, g, _ = rows(data)
        model, _c = _fit([tuple(r) for r in x], list(y), g, 5)
        w, b = np.array(model.coef), model.intercept
        return lambda m: 1 / (1 + np.exp(-np.clip(transform(m) @ w + b, -30, 30)))

    return variant


def splines(n_knots: int = 4, names: Sequence[str] = ("score", "best_alt", "semantic", "margin")) -> Variant:
    def variant(data: Sequence[Q]) -> Model:
        from sklearn.compose import ColumnTransformer
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import GridSearchCV, GroupKFold
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import SplineTransformer, StandardScaler

        x, y, g, _ = rows(data)
        ct = ColumnTransformer(
            [("s", SplineTransformer(n_knots=n_knots, degree=3), [F[n] for n in names])],
            remainder="passthrough",
        )
        pipe = make_pipeline(ct, StandardScaler(), LogisticRegression(max_iter=5000))
        splits = list(GroupKFold(n_splits=5).split(x, y, g))
        search = GridSearchCV(
            pipe, {"logisticregression__C": list(np.logspace(-2, 2, 9))}, cv=splits, scoring="neg_log_loss"
        ).fit(x, y)
        est = search.best_estimator_
        return lambda m: est.predict_proba(m)[:, 1]

    return variant


def listwise(l2: float = 1.0, extra: Callable[[np.ndarray], np.ndarray] | None = None) -> Variant:
    """A conditional logit over each question's candidates plus a 'none of them' option (score 0):
    p_i = exp(s_i) / (1 + sum_j exp(s_j)), s = w.x + b."""

    def variant(data: Sequence[Q]) -> Model:
        from scipy.optimize import minimize

        tf = extra or (lambda a: a)
        qs = [
            (tf(np.asarray(q.features, dtype=float)), np.asarray(q.right, dtype=float))
            for q in data
            if q.features
        ]
        allx = np.vstack([a for a, _ in qs])
        mu, sd = allx.mean(0), allx.std(0) + 1e-9
        qs = [((a - mu) / sd, r) for a, r in qs]
        big = np.vstack([a for a, _ in qs])
        ys = np.concatenate([r for _, r in qs])
        bounds = np.cumsum([0] + [len(a) for a, _ in qs])
        nq = len(qs)
        seg = np.repeat(np.arange(nq), np.diff(bounds))

        def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
            w, b = theta[:-1], theta[-1]
            s = big @ w + b
            e = np.exp(np.clip(s, -50, 50))
            z = 1 + np.bincount(seg, e, minlength=nq)
            p = e / z[seg]
            ll = np.sum(ys * s) - np.sum(np.log(z))
            grad_s = ys - p
            gw = big.T @ grad_s - l2 * w
            gb = grad_s.sum()
            return -(ll - 0.5 * l2 * w @ w), -np.append(gw, gb)

        res = minimize(loss, np.zeros(big.shape[1] + 1), jac=True, method="L-BFGS-B")
        w, b = res.x[:-1], res.x[-1]

        def predict(m: np.ndarray) -> np.ndarray:
            s = ((tf(m) - mu) / sd) @ w + b
            e = np.exp(np.clip(s, -50, 50))
            return e / (1 + e.sum())

        return predict

    return variant


def mean_of(*variants: Variant) -> Variant:
    def variant(data: Sequence[Q]) -> Model:
        models = [v(data) for v in variants]
        return lambda m: np.mean([model(m) for model in models], axis=0)

    return variant


# ---------------------------------------------------------------------------------------------------
def topic_model(data: Sequence[Q]) -> Callable[[np.ndarray], float]:
    from bot.decision import _TOPIC_INDEX

    xs = [tuple(q.features[0][i] for i in _TOPIC_INDEX) for q in data if q.features]
    ys = [int(q.item.on_topic) for q in data if q.features]
    gs = [q.group for q in data if q.features]
    model, _c = _fit(xs, ys, gs, 5)
    return lambda row: model.probability([row[i] for i in _TOPIC_INDEX])


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


VARIANTS: dict[str, Variant] = {
    "logistic": logistic,
    "hgb-d3-100": hgb(),
    "hgb-d3-150-lr.1": hgb(max_iter=150, learning_rate=0.1),
    "hgb-d2-150": hgb(max_depth=2, max_iter=150, learning_rate=0.1),
    "hgb-d3-50": hgb(max_iter=50, learning_rate=0.1),
    "hgb-d3-100-lr.1": hgb(learning_rate=0.1),
    "hgb-d3-200-lr.1": hgb(max_iter=200, learning_rate=0.1),
    "hgb-d3-150-lr.1-leaf20": hgb(max_iter=150, learning_rate=0.1, min_samples_leaf=20),
    "hgb-d3-100-lr.1-leaf20": hgb(max_iter=100, learning_rate=0.1, min_samples_leaf=20),
    "hgb-d3-75-lr.15-leaf20": hgb(max_iter=75, learning_rate=0.15, min_samples_leaf=20),
    # depth 3, but each path reads two features at most (tables over pairs, as for depth 2)
    "hgb-d3-75-lr.15-leaf20-pairs": hgb(
        max_iter=75, learning_rate=0.15, min_samples_leaf=20, interaction_cst="pairwise"
    ),
    "hgb-d3-150-lr.1-leaf20-pairs": hgb(
        max_iter=150, learning_rate=0.1, min_samples_leaf=20, interaction_cst="pairwise"
    ),
    "hgb-d3-150-lr.1-leaf80": hgb(max_iter=150, learning_rate=0.1, min_samples_leaf=80),
    "hgb-d3-150-lr.1-l2-5": hgb(max_iter=150, learning_rate=0.1, l2_regularization=5.0),
    "hgb-d3-150-lr.1-nomono": hgb(max_iter=150, learning_rate=0.1, mono_names=()),
    "hgb-d3-150-lr.1-rank": hgb(rank_features, max_iter=150, learning_rate=0.1),
    "hgb-d3-100-lr.1-rank": hgb(rank_features, max_iter=100, learning_rate=0.1),
    "hgb-d4-100-lr.1": hgb(max_depth=4, max_iter=100, learning_rate=0.1),
    "hgb-d3-150-lr.1-leaf20-rank": hgb(rank_features, max_iter=150, learning_rate=0.1, min_samples_leaf=20),
    "hgb-d3-300-lr.05-leaf20": hgb(max_iter=300, learning_rate=0.05, min_samples_leaf=20),
    "hgb-d2-300-lr.1-leaf20": hgb(max_depth=2, max_iter=300, learning_rate=0.1, min_samples_leaf=20),
    "mean-logistic-hgb-leaf20": mean_of(logistic, hgb(max_iter=150, learning_rate=0.1, min_samples_leaf=20)),
    "products": logistic_on(
        expand_products(("score", "best_alt", "margin", "semantic", "semantic_gap", "pasted"))
    ),
    "pasted-interaction": logistic_on(with_pasted),
    "rank-features": logistic_on(rank_features, per_question=True),
    "splines": splines(),
    "listwise": listwise(),
    "listwise-rank": listwise(extra=rank_features),
}


def main() -> None:
    if sys.argv[1:2] == ["--per-form"]:
        per_form(sys.argv[2])
        return
    if sys.argv[1:2] == ["--robust"]:
        robust(sys.argv[2:])
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
